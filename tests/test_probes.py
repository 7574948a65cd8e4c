"""Black-box conversation probes against the running assistant (``live_stack``).

One test per scenario of every ``tests/probes/*.yml`` file, played by the project's own
runner (``tests/probe_runner.py``; format in ``tests/probes/README.md``), so a failure
names the scenario. Placeholders such as ``{clinic_phone}`` are filled from
``data/content/clinic.yml``. Each file's results are kept in ``results/probes/<file>.json``
and its counts in ``results/probes/summary.txt`` (shown at the end of the pytest run).
"""
from pathlib import Path

import pytest

from tests.probe_runner import load_clinic, load_scenarios, run_scenario, summary, write_json

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results" / "probes"
PROBE_FILES = sorted((HERE / "probes").glob("*.yml"))
SCENARIOS = [scenario for path in PROBE_FILES for scenario in load_scenarios(path)]
TIMEOUT = 60.0

_results = {}  # probe file stem -> [Result]


@pytest.fixture(scope="module", autouse=True)
def probe_results():
    """Writes each file's JSON and the summary lines after the probes have run."""
    _results.clear()
    yield _results
    if not _results:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = []
    for stem, results in sorted(_results.items()):
        write_json(results, RESULTS / f"{stem}.json")
        lines.append(f"{stem}: {summary(results)}")
    (RESULTS / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_there_are_probe_files():
    assert PROBE_FILES, "no probe files in tests/probes/"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_probe_scenario(live_stack, scenario):
    result = run_scenario(scenario, live_stack.rasa_url, TIMEOUT, load_clinic())
    _results.setdefault(Path(scenario.file).stem, []).append(result)
    if not result.passed:
        transcript = "\n".join(result.transcript[-12:])
        pytest.fail(f"{result.reason}\n--- transcript (sender {result.sender}, last turns) ---\n{transcript}",
                    pytrace=False)
