"""`make audit` (scripts/audit_deps.py, issue 13): without its vulnerability service it
skips with the reason, or fails when CI is set; every accepted finding is explained
in the README; pip-audit is pinned and never shares Rasa's environment."""
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scripts import audit_deps

ROOT = Path(__file__).resolve().parent.parent


def _run(probe_url, ci, unreachable_ok=False):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", audit_deps.UNREACHABLE_OK_ENV)}
    env[audit_deps.PROBE_ENV] = probe_url
    if ci:
        env["CI"] = "true"
    if unreachable_ok:
        env[audit_deps.UNREACHABLE_OK_ENV] = "1"
    return subprocess.run([sys.executable, "scripts/audit_deps.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def not_found_server():
    """A local server answering 404, as PyPI's per-version JSON pages do here."""
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/pypi/pip/24.2/json"
    server.shutdown()


@pytest.mark.parametrize("where", ["closed port", "404"])
def test_unreachable_service_skips_with_the_reason_or_fails_in_ci(where, request):
    url = "http://127.0.0.1:9/pypi/pip/24.2/json" if where == "closed port" else request.getfixturevalue("not_found_server")
    local = _run(url, ci=False)
    assert local.returncode == 0
    assert local.stdout.startswith("SKIPPED: dependency audit") and url in local.stdout
    ci = _run(url, ci=True)
    assert ci.returncode == 1
    assert ci.stderr.startswith("FAILED: dependency audit impossible") and "CI is set" in ci.stderr
    waived = _run(url, ci=True, unreachable_ok=True)
    assert waived.returncode == 0 and "WARNING: in CI" in waived.stdout and "Nothing was audited" in waived.stdout


def test_the_audit_is_strict_and_ignores_only_the_accepted_findings():
    args = audit_deps.command(Path("python"))
    assert "--strict" in args and "--no-deps" in args and str(audit_deps.AUDITED) in args
    ignored = [args[i + 1] for i, a in enumerate(args) if a == "--ignore-vuln"]
    assert ignored == list(audit_deps.ACCEPTED)


def test_every_accepted_finding_is_explained_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Dependency audit", 1)[1].split("\n## ", 1)[0]
    for vuln in audit_deps.ACCEPTED:
        assert vuln in section, vuln


def test_pip_audit_is_pinned_apart_from_rasa_and_make_test_runs_it():
    pins = (ROOT / "requirements-audit.txt").read_text().splitlines()
    assert "pip-audit==2.10.1" in pins
    assert all("==" in line for line in pins if line and not line.startswith("#"))
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: audit ", makefile, re.M)
    assert "scripts/audit_deps.py" in makefile
