"""deploy/helm/rapport: helm lint, the rendered manifests against Kubernetes' schemas
(kubernetes-validate, strict), and what the chart promises: probes, secrets only from an existing
Secret, who may reach whom (the NetworkPolicies, evaluated), the autoscaler on Rasa."""
from __future__ import annotations

import re

import pytest
import yaml

from deploy.entrypoint import command

SECRET = "rapport-secrets"


@pytest.fixture(scope="module")
def rendered(tools) -> str:
    result = tools.render_chart(f"secrets.existingSecret={SECRET}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def objects(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(text: str, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects(text) if o["kind"] == kind}


def test_helm_lint_passes(tools):
    result = tools.helm("lint", "--strict", str(tools.CHART), "--set", f"secrets.existingSecret={SECRET}")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", ["1.30.0", "1.34.0"])
def test_the_rendered_chart_is_valid_for_kubernetes(tools, rendered, version):
    result = tools.kubernetes_validate(rendered, version)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_does_reject_a_wrong_manifest(tools, rendered):
    broken = rendered.replace("terminationGracePeriodSeconds: 30", "terminationGracePeriod: 30", 1)
    result = tools.kubernetes_validate(broken)
    assert result.returncode != 0 and "terminationGracePeriod" in result.stdout + result.stderr


def test_without_an_existing_secret_the_chart_refuses_to_render(tools):
    result = tools.render_chart()
    assert result.returncode != 0 and "secrets.existingSecret" in result.stderr


def test_the_same_shape_as_the_compose_file(rendered):
    deployments = by_kind(rendered, "Deployment")
    assert set(deployments) == {f"rel-rapport-{c}" for c in ("rasa", "actions", "review", "nginx", "scheduler")}
    services = by_kind(rendered, "Service")
    assert {"rel-rapport-rasa", "rel-rapport-rasa-pods", "rel-rapport-actions", "rel-rapport-review",
            "rel-rapport-nginx"} == set(services)
    assert by_kind(rendered, "Job")["rel-rapport-migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert by_kind(rendered, "CronJob")["rel-rapport-purge"]["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "containers"][0]["args"] == ["purge"]
    scheduler = deployments["rel-rapport-scheduler"]["spec"]["template"]["spec"]["containers"][0]
    assert scheduler["args"] == ["scheduler", "--skip", "purge"]  # the CronJob purges
    assert not by_kind(rendered, "Secret")


def _app_containers(rendered: str):
    for name, deployment in by_kind(rendered, "Deployment").items():
        if not name.endswith("nginx"):
            yield name, deployment["spec"]["template"]["spec"], deployment["spec"]["template"]["spec"]["containers"][0]


def test_every_process_has_liveness_on_healthz_and_readiness_on_readyz(rendered):
    for name, _, container in _app_containers(rendered):
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
    nginx = by_kind(rendered, "Deployment")["rel-rapport-nginx"]["spec"]["template"]["spec"]["containers"][0]
    assert nginx["livenessProbe"] and nginx["readinessProbe"]


def test_secrets_come_only_from_the_existing_secret_and_pods_run_unprivileged(rendered):
    for name, pod, container in _app_containers(rendered):
        assert {"secretRef": {"name": SECRET}} in container["envFrom"], name
        for variable in container.get("env", []):
            assert not re.search(r"PASSWORD|TOKEN|SECRET|KEYS", variable["name"]), (name, variable)
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
    config = by_kind(rendered, "ConfigMap")["rel-rapport"]["data"]
    assert not [key for key in config if re.search(r"PASSWORD|TOKEN|SECRET|KEYS", key)]


def test_rasa_runs_through_rasa_run_py_from_the_image_with_an_autoscaler(rendered):
    rasa = by_kind(rendered, "Deployment")["rel-rapport-rasa"]
    container = rasa["spec"]["template"]["spec"]["containers"][0]
    assert command(container["args"][0], container["args"][1:])[1] == "scripts/rasa_run.py"
    assert "replicas" not in rasa["spec"]  # the autoscaler owns the count
    hpa = by_kind(rendered, "HorizontalPodAutoscaler")["rel-rapport-rasa"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rel-rapport-rasa"}
    assert hpa["minReplicas"] >= 2


def test_without_the_autoscaler_rasa_has_a_fixed_count(tools):
    result = tools.render_chart(f"secrets.existingSecret={SECRET}", "rasa.autoscaling.enabled=false")
    assert result.returncode == 0, result.stderr
    assert by_kind(result.stdout, "Deployment")["rel-rapport-rasa"]["spec"]["replicas"] == 2
    assert not by_kind(result.stdout, "HorizontalPodAutoscaler")


def test_nginx_follows_the_rasa_pods_and_needs_an_nginx_that_can(rendered):
    nginx = by_kind(rendered, "Deployment")["rel-rapport-nginx"]["spec"]["template"]["spec"]
    args = nginx["initContainers"][0]["args"]
    assert "--rasa=rel-rapport-rasa-pods.rapport.svc.cluster.local:5005 resolve" in args
    assert any(arg.startswith("--resolver=") for arg in args)
    version = tuple(int(p) for p in re.search(r":(\d+\.\d+\.\d+)", nginx["containers"][0]["image"]).group(1).split("."))
    assert version >= (1, 27, 3)  # `resolve` in open-source nginx


# --- NetworkPolicy, evaluated ---------------------------------------------------------------------

def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def allowed(policies: list[dict], source: dict, target: dict, port: int) -> bool:
    """Whether a pod labelled `source` (same namespace) may connect to `target` on `port`."""
    selecting = [p for p in policies if _matches(p["spec"]["podSelector"], target)
                 and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
    if not selecting:
        return True  # no policy isolates the target
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and port not in [p["port"] for p in ports]:
                continue
            peers = rule.get("from")
            if not peers or any("podSelector" in peer and "namespaceSelector" not in peer
                                and _matches(peer["podSelector"], source) for peer in peers):
                return True
    return False


def pod(component: str) -> dict:
    return {"app.kubernetes.io/name": "rapport", "app.kubernetes.io/instance": "rel",
            "app.kubernetes.io/component": component}


def test_only_nginx_reaches_rasa_and_only_rasa_reaches_the_action_server(rendered):
    policies = list(by_kind(rendered, "NetworkPolicy").values())
    stranger = {"app": "something-else"}
    assert allowed(policies, pod("nginx"), pod("rasa"), 5005)
    assert allowed(policies, pod("scheduler"), pod("rasa"), 5005)  # it opens conversations through the API
    for source in (pod("actions"), pod("review"), pod("migrate"), stranger):
        assert not allowed(policies, source, pod("rasa"), 5005), source
    assert allowed(policies, pod("rasa"), pod("actions"), 5055)
    for source in (pod("nginx"), pod("review"), pod("scheduler"), stranger):
        assert not allowed(policies, source, pod("actions"), 5055), source
    assert allowed(policies, pod("nginx"), pod("review"), 5080)
    assert not allowed(policies, pod("rasa"), pod("review"), 5080)
    assert not allowed(policies, pod("nginx"), pod("rasa"), 5055)  # only the service's port
    assert allowed(policies, stranger, pod("nginx"), 8080)  # the entry point
    for component in ("migrate", "scheduler"):
        assert not allowed(policies, stranger, pod(component), 8080)


def test_the_evaluator_sees_an_open_action_server(tools):
    """Without the policies, anything reaches the action server: the check above can fail."""
    result = tools.render_chart(f"secrets.existingSecret={SECRET}", "networkPolicy.enabled=false")
    policies = list(by_kind(result.stdout, "NetworkPolicy").values())
    assert allowed(policies, {"app": "something-else"}, pod("actions"), 5055)
