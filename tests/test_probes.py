"""Black-box conversation probes against the running assistant.

Runs ``../shared/tools/probe.py`` (the shared probe runner) over the shared
examples and every probe file in tests/probes/, against ``live_stack``.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results" / "probes"
SHARED = Path(os.environ.get("SHARED") or HERE.parent.parent / "shared")
PROBE_FILES = sorted((HERE / "probes").glob("*.yml"))


def _run(files, rasa_url):
    """Runs the probe tool; keeps its JSON and last lines under results/probes/."""
    tool = SHARED / "tools" / "probe.py"
    if not tool.exists():
        pytest.fail(f"probe runner not found at {tool}; set SHARED to the shared folder", pytrace=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = Path(files[0]).stem
    proc = subprocess.run(
        [sys.executable, str(tool), *map(str, files), "--url", rasa_url, "--timeout", "60",
         "--json", str(RESULTS / f"{name}.json")],
        capture_output=True, text=True, timeout=1800,
    )
    print(proc.stdout[-6000:], proc.stderr[-2000:])
    tail = " | ".join(proc.stdout.strip().splitlines()[-2:])
    with open(RESULTS / "summary.txt", "a", encoding="utf-8") as fh:
        fh.write(f"{name}: {tail}\n")
    return proc


def test_shared_example_probes_pass(live_stack):
    proc = _run([SHARED / "probes" / "examples.yml"], live_stack.rasa_url)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.parametrize("probe_file", PROBE_FILES, ids=[p.stem for p in PROBE_FILES])
def test_project_probes_pass(live_stack, probe_file):
    proc = _run([probe_file], live_stack.rasa_url)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0 and " 0 failed" in last, proc.stdout[-3000:]
