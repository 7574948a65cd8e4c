"""The action server entry point (scripts/action_server.py) as a real process:
loopback only, a shared secret on every call, errors that echo nothing."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from scripts.action_server import SECRET_HEADER, secret_matches
from scripts.stack import ROOT
from tests.net_helpers import listening_addresses, only_loopback

SECRET = "test-action-secret-" + "k" * 24
MARKER = "VISITOR-TEXT-7f3a"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path, **extra):
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        PYTHONPATH=str(ROOT),
        MESOGUIDE_DATA_DIR=str(tmp_path),
        MESOGUIDE_DB_URL=f"sqlite:///{tmp_path / 'actions.db'}",
    )
    env.pop("ACTION_HOST", None)
    env.update(extra)
    return env


def _call(url, body=None, secret=None, method=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    request.add_header("Content-Type", "application/json")
    if secret is not None:
        request.add_header(SECRET_HEADER, secret)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("action_server")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.action_server", "--port", str(port)],
        cwd=ROOT, env=_env(tmp_path, MESOGUIDE_ACTION_SECRET=SECRET),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(proc.stdout.read().decode(errors="replace")[-3000:])
            try:
                if _call(url + "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("action server did not start")
            time.sleep(0.3)
        yield url, port
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_health_is_open_and_everything_else_needs_the_secret(action_server):
    url, _ = action_server
    assert _call(url + "/health") == (200, '{"status":"ok"}')
    call = {"next_action": "action_forget_me", "sender_id": "someone", "tracker": {"sender_id": "someone"}}
    assert _call(url + "/webhook", call)[0] == 401
    assert _call(url + "/webhook", call, secret="wrong")[0] == 403
    assert _call(url + "/webhook", call, secret=SECRET[:-1])[0] == 403
    assert _call(url + "/actions")[0] == 401
    status, body = _call(url + "/actions", secret=SECRET)
    assert status == 200 and "action_forget_me" in body


def test_an_error_does_not_echo_the_request(action_server):
    url, _ = action_server
    status, body = _call(url + "/webhook", {"next_action": "action_forget_me", "tracker": MARKER}, secret=SECRET)
    assert status == 500
    assert MARKER not in body and json.loads(body) == {"error": "internal error"}
    status, body = _call(url + "/nowhere", {"x": MARKER}, secret=SECRET)
    assert status == 404 and MARKER not in body


def test_listens_on_loopback_only(action_server):
    _, port = action_server
    assert only_loopback(listening_addresses(port)), listening_addresses(port)


def test_refuses_to_start_without_a_secret(tmp_path):
    env = _env(tmp_path, MESOGUIDE_ACTION_SECRET="")
    done = subprocess.run(
        [sys.executable, "-m", "scripts.action_server", "--port", str(_free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0 and "MESOGUIDE_ACTION_SECRET" in done.stderr


def test_secret_comparison():
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(None, SECRET) and not secret_matches("", SECRET)
    assert not secret_matches(SECRET + "x", SECRET)
