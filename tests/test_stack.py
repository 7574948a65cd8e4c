"""The process runner behind `make run`: configuration, ports, telemetry off."""
import socket

import pytest

from scripts.stack import Stack


def test_defaults_and_environment(tmp_path):
    stack = Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "RASA_PORT": "16005", "ACTION_PORT": "16055"})
    assert stack.env["RASA_TELEMETRY_ENABLED"] == "false"
    assert stack.db_url == f"sqlite:///{tmp_path / 'mesoguide.db'}"
    assert stack.env["WEB_ORIGIN"] == "http://localhost:8080"
    rasa = stack.command("rasa")
    assert rasa[rasa.index("--cors") + 1] == "http://localhost:8080"  # one origin, never *
    endpoints = (tmp_path / "endpoints.runtime.yml").read_text()
    assert "http://localhost:16055/webhook" in endpoints and "5055" not in endpoints


def test_refuses_a_port_that_is_taken(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        stack = Stack(env={"MESOGUIDE_DATA_DIR": str(tmp_path), "WEB_PORT": str(port)})
        with pytest.raises(RuntimeError, match="already in use"):
            stack.start("web")
