"""`make audit`: pip-audit over constraints.txt (the exact tested environment).

pip-audit runs from its own environment ``.venv-audit`` (``requirements-audit.txt``;
it cannot share ``.venv`` with Rasa 3.6, see that file). It asks PyPI's JSON API for
the known vulnerabilities of each pinned version, so it needs the network:

- the service is checked first; when it cannot be reached (or does not answer for a
  known version, which would make pip-audit skip every package and report nothing),
  the audit FAILS when the ``CI`` variable is set and is otherwise SKIPPED, saying why
  (``AUDIT_UNREACHABLE_OK=1`` turns that failure into a loud skip, for a CI machine
  that is known to have no access to the service);
- ``--strict`` makes a package that could not be audited a failure, not a silent skip;
- findings accepted on purpose are listed in ``ACCEPTED`` and explained in the README
  ("Dependency audit"); any other finding fails.

Exit status: 0 clean or skipped, 1 findings or a failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
AUDIT_VENV = ROOT / ".venv-audit"
REQUIREMENTS = ROOT / "requirements-audit.txt"
AUDITED = ROOT / "constraints.txt"
PROBE_ENV = "MESOGUIDE_AUDIT_PROBE_URL"
UNREACHABLE_OK_ENV = "AUDIT_UNREACHABLE_OK"
PROBE_URL = "https://pypi.org/pypi/pip/24.2/json"
"""A version that certainly exists: its JSON page must answer with a vulnerability list."""

ACCEPTED: Dict[str, str] = {
    "GHSA-2c2j-9gv5-cj73": "starlette < 0.47.2 (CVE-2025-54121): a large multipart file part "
    "blocks the event loop while rolled to disk; FastAPI 0.115.x allows starlette < 0.47 only, "
    "and the console refuses bodies over 256 KiB, below the 1 MB roll-over",
    "CVE-2025-54121": "alias of GHSA-2c2j-9gv5-cj73",
    "GHSA-7f5h-v6xp-fcq8": "starlette < 0.49.1 (CVE-2025-62727): multi-range requests to "
    "FileResponse take quadratic time; the console drops every Range header before routing",
    "CVE-2025-62727": "alias of GHSA-7f5h-v6xp-fcq8",
}


def probe(url: str, timeout: float = 15.0) -> Tuple[bool, str]:
    """(reachable, reason): does the vulnerability service answer for a known version?"""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed URL
            body = json.load(response)
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot audit here"
        return False, f"{url} did not answer ({type(exc).__name__}: {exc})"
    if not isinstance(body, dict) or "vulnerabilities" not in body:
        return False, f"{url} answered without a vulnerability list"
    return True, ""


def _stamp() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure_environment() -> Path:
    """Create or update .venv-audit from requirements-audit.txt; return its python."""
    python = AUDIT_VENV / "bin" / "python"
    marker = AUDIT_VENV / ".installed"
    if python.exists() and marker.exists() and marker.read_text().strip() == _stamp():
        return python
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(AUDIT_VENV)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
    )
    marker.write_text(_stamp() + "\n")
    return python


def command(python: Path) -> List[str]:
    args = [
        str(python), "-m", "pip_audit", "--requirement", str(AUDITED), "--no-deps", "--disable-pip",
        "--strict", "--vulnerability-service", "pypi", "--progress-spinner", "off", "--desc", "off",
    ]
    for vuln in ACCEPTED:
        args += ["--ignore-vuln", vuln]
    return args


def main(argv: Optional[List[str]] = None) -> int:
    in_ci = bool(os.environ.get("CI", "").strip())
    reachable, reason = probe(os.environ.get(PROBE_ENV, "").strip() or PROBE_URL)
    if not reachable:
        if in_ci and os.environ.get(UNREACHABLE_OK_ENV, "").strip() == "1":
            print(f"SKIPPED (WARNING: in CI, {UNREACHABLE_OK_ENV}=1): dependency audit: {reason}. "
                  "Nothing was audited.")
            return 0
        if in_ci:
            print(f"FAILED: dependency audit impossible: {reason}. CI is set, so this is a failure.",
                  file=sys.stderr)
            return 1
        print(f"SKIPPED: dependency audit: {reason}. Run `make audit` where PyPI's JSON API is "
              "reachable (CI fails instead of skipping).")
        return 0
    try:
        python = ensure_environment()
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"FAILED: could not install pip-audit into {AUDIT_VENV.name}: {exc}", file=sys.stderr)
        return 1
    print(f"pip-audit of {AUDITED.name}; accepted (README, Dependency audit): {', '.join(ACCEPTED)}")
    return subprocess.run(command(python)).returncode


if __name__ == "__main__":
    sys.exit(main())
