"""Shared pytest set-up: telemetry off, the repository on sys.path, fixture plugins."""
import os
import sys
from pathlib import Path

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.stack", "tests.fixtures.terminology"]


def pytest_terminal_summary(terminalreporter):
    """Shows the conversation-probe counts (written by tests/test_probes.py)."""
    summary = ROOT / "results" / "probes" / "summary.txt"
    if summary.exists():
        terminalreporter.section("conversation probes")
        for line in summary.read_text(encoding="utf-8").splitlines():
            terminalreporter.write_line(line)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (deselect with -m 'not browser'; marked by fixture)"
    )


def pytest_collection_modifyitems(items):
    """Every test that uses a ``browser`` fixture (tests/web, tests/console) is marked
    ``browser``, so a quick run can leave them out without naming files."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker("browser")
