"""The process runner behind `make run`: configuration, ports, telemetry off."""
import os
import signal
import socket
import sys
import time

import pytest
from rasa.utils.endpoints import read_endpoint_config

from scripts.action_server import SECRET_HEADER
from scripts.stack import ROOT, Stack, backoff_delay


def test_defaults_and_environment(tmp_path):
    stack = Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "RASA_PORT": "16005", "ACTION_PORT": "16055"})
    assert stack.env["RASA_TELEMETRY_ENABLED"] == "false"
    assert stack.db_url == f"sqlite:///{tmp_path / 'mesoguide.db'}"
    assert stack.env["WEB_ORIGIN"] == "http://localhost:8080"
    rasa = stack.command("rasa")
    assert rasa[rasa.index("--cors") + 1] == "http://localhost:8080"  # one origin, never *
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" not in rasa
    assert rasa[rasa.index("--endpoints") + 1] == str(ROOT / "endpoints.yml")  # as it is, no copy
    assert stack.env["ACTION_HOST"] == "127.0.0.1"
    assert len(stack.env["MESOGUIDE_ACTION_SECRET"]) >= 32
    assert stack.env_for("rasa")["SANIC_REQUEST_MAX_SIZE"] == str(64 * 1024)
    assert "SANIC_REQUEST_MAX_SIZE" not in stack.env_for("actions")  # trackers are larger
    assert stack.command("actions")[:3] == [sys.executable, "-m", "scripts.action_server"]


def test_rasa_reads_the_port_and_secret_of_the_action_server_from_the_environment(tmp_path, monkeypatch):
    stack = Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "ACTION_PORT": "16055"})
    for name in ("ACTION_PORT", "MESOGUIDE_ACTION_SECRET"):
        monkeypatch.setenv(name, stack.env[name])
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint.url == "http://localhost:16055/webhook"
    assert endpoint.headers == {SECRET_HEADER: stack.env["MESOGUIDE_ACTION_SECRET"]}


def test_a_secret_per_start_unless_one_is_given(tmp_path):
    env = {"MESOGUIDE_DATA_DIR": str(tmp_path)}
    assert Stack(env=env).env["MESOGUIDE_ACTION_SECRET"] != Stack(env=env).env["MESOGUIDE_ACTION_SECRET"]
    given = dict(env, MESOGUIDE_ACTION_SECRET="s" * 40, RASA_HOST="0.0.0.0", ACTION_HOST="10.0.0.5")
    stack = Stack(env=given)
    assert stack.env["MESOGUIDE_ACTION_SECRET"] == "s" * 40
    assert stack.env["ACTION_HOST"] == "10.0.0.5"
    rasa = stack.command("rasa")
    assert rasa[rasa.index("--interface") + 1] == "0.0.0.0"


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


class _TinyStack(Stack):
    """The "web" part replaced by a tiny HTTP server, to test supervision quickly."""

    def command(self, part):
        return [sys.executable, "-m", "http.server", str(self.ports["web"]), "--bind", "127.0.0.1"]


def test_a_crashed_part_is_restarted_with_backoff_and_logged(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stack = _TinyStack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "WEB_PORT": str(port)}, log_dir=tmp_path)
    try:
        stack.start("web", timeout=30)
        first = stack.procs["web"].pid
        os.killpg(first, signal.SIGKILL)
        stack.procs["web"].wait()
        now = time.monotonic()
        stack.supervise_once(now)
        assert "web" not in stack.procs and stack.failures["web"] == 1
        stack.supervise_once(now + 0.5)  # the first pause (1 s) is not over
        assert "web" not in stack.procs
        stack.supervise_once(now + 1.0)
        assert stack.procs["web"].pid != first and stack.procs["web"].poll() is None
        assert stack.restarts == ["web"]
        os.killpg(stack.procs["web"].pid, signal.SIGKILL)
        stack.procs["web"].wait()
        stack.supervise_once(now + 2.0)
        assert stack.failures["web"] == 2 and stack.retry_at["web"] == pytest.approx(now + 4.0)
        log = (tmp_path / "stack.log").read_text()
        assert "web exited unexpectedly (exit -9); restarting in 1 s" in log
        assert "restarting in 2 s" in log and "web is running again" in log
    finally:
        stack.stop_all()


def test_a_part_that_stays_up_starts_again_from_the_first_pause(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stack = _TinyStack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "WEB_PORT": str(port)}, log_dir=tmp_path)
    try:
        stack.start("web", timeout=30)
        stack.failures["web"] = 3
        stack.supervise_once(time.monotonic() + 61)
        assert stack.failures["web"] == 0
    finally:
        stack.stop_all()


def test_refuses_a_port_that_is_taken(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        stack = Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "WEB_PORT": str(port)})
        with pytest.raises(RuntimeError, match="already in use"):
            stack.start("web")


def test_the_sender_secret_is_kept_private_in_the_data_dir_and_only_rasa_gets_it(tmp_path):
    import stat

    env = {"MESOGUIDE_DATA_DIR": str(tmp_path)}
    first = Stack(env=env)
    secret = first.env["MESOGUIDE_SENDER_SECRET"]
    path = tmp_path / "sender_secret"
    assert len(secret) >= 32 and path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Stack(env=env).env["MESOGUIDE_SENDER_SECRET"] == secret  # ids survive a restart
    assert Stack(env=dict(env, MESOGUIDE_SENDER_SECRET="g" * 40)).env["MESOGUIDE_SENDER_SECRET"] == "g" * 40
    assert first.env_for("rasa")["MESOGUIDE_SENDER_SECRET"] == secret
    for part in ("actions", "web", "console"):
        assert "MESOGUIDE_SENDER_SECRET" not in first.env_for(part), part
    for part in ("web", "console"):
        assert "MESOGUIDE_ACTION_SECRET" not in first.env_for(part), part
    assert first.env_for("actions")["MESOGUIDE_ACTION_SECRET"] == first.env_for("rasa")["MESOGUIDE_ACTION_SECRET"]


def test_rasa_never_runs_at_debug_level_and_never_with_its_http_api(tmp_path):
    stack = Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "LOG_LEVEL": "DEBUG"})
    assert stack.env_for("rasa")["LOG_LEVEL"] == "INFO"  # a stray LOG_LEVEL=DEBUG does not reach Rasa
    assert Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "RASA_LOG_LEVEL": "warning"}).env_for("rasa")["LOG_LEVEL"] == "WARNING"
    with pytest.raises(ValueError, match="DEBUG"):
        Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "RASA_LOG_LEVEL": "DEBUG"})
    rasa = stack.command("rasa")
    assert not any(flag in rasa for flag in ("--enable-api", "-v", "-vv", "--debug", "--verbose"))


def test_the_supervisor_restarts_the_real_action_server_after_it_is_killed(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stack = Stack(env={**os.environ, "MESOGUIDE_DATA_DIR": str(tmp_path), "ACTION_PORT": str(port),
                       "MESOGUIDE_DB_URL": f"sqlite:///{tmp_path / 'm.db'}"}, log_dir=tmp_path)
    try:
        stack.start("actions", timeout=120)
        first = stack.procs["actions"].pid
        os.killpg(first, signal.SIGKILL)
        stack.procs["actions"].wait()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not stack.restarts:
            stack.supervise_once()
            time.sleep(0.2)
        assert stack.restarts == ["actions"]
        assert stack.procs["actions"].pid != first and stack.procs["actions"].poll() is None
        import urllib.request

        with urllib.request.urlopen(stack.actions_url + "/health", timeout=10) as resp:
            assert resp.status == 200
        log = (tmp_path / "stack.log").read_text()
        assert "actions exited unexpectedly (exit -9); restarting in 1 s" in log and "actions is running again" in log
    finally:
        stack.stop_all()
