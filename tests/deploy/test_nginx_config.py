"""deploy/nginx.py renders deploy/nginx.conf.template: Debian's nginx accepts every variant, and
the review page's server block comes only with its settings."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.nginx import Site, main, render

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def site(tmp_path: Path, **changes) -> Site:
    values = dict(listen="127.0.0.1:18088", rasa_servers=["127.0.0.1:5101", "127.0.0.1:5102"], run_dir=str(tmp_path),
                  webchat_dir=str(tmp_path / "webchat"))
    values.update(changes)
    return Site(**values)


def test_without_the_review_page_its_server_block_is_left_out(tmp_path):
    text = render(site(tmp_path))
    assert "upstream review" not in text and "@@" not in text


def test_the_review_page_needs_both_its_servers_and_its_listen_address(tmp_path):
    with pytest.raises(ValueError, match="review"):
        render(site(tmp_path, review_servers=["127.0.0.1:5080"]))


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/install_nginx.sh installs Debian's; make test runs it)")
@pytest.mark.parametrize("review", [False, True])
def test_nginx_accepts_the_rendered_config(tmp_path, review):
    args = ["--out", str(tmp_path), "--listen", "127.0.0.1:18088", "--rasa", "127.0.0.1:5101",
            "--rasa", "127.0.0.1:5102", "--copy-webchat", "--stderr-logs"]
    if review:
        args += ["--review", "127.0.0.1:5080", "--review-listen", "127.0.0.1:18089"]
    assert main(args) == 0
    assert (tmp_path / "webchat" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js").is_file()
    (tmp_path / "tmp").mkdir()
    checked = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert ("server 127.0.0.1:5080" in (tmp_path / "nginx.conf").read_text()) is review
