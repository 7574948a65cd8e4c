"""The conversation-probe runner itself (tests/probe_runner.py), against a tiny fake REST channel.

No assistant is needed: ``FakeRasa`` answers on 127.0.0.1 (ephemeral port) from a script.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests import probe_runner
from tests.probe_runner import (
    ProbeFormatError,
    fill,
    load_clinic,
    load_scenarios,
    main,
    new_sender,
    parse_scenarios,
    placeholders,
    render,
    run_file,
    run_scenario,
    send,
)

ROOT = Path(__file__).resolve().parent.parent
PROBE_FILES = sorted((ROOT / "tests" / "probes").glob("*.yml"))
CLINIC = load_clinic()  # the assistant's clinic.yml (data/content/, or MESOGUIDE_CONTENT_DIR when set)
MENU = [{"title": "What is mesotherapy?", "payload": "/ask_what_is"}, {"title": "Contact the clinic", "payload": "/contact"}]


def bot_script(sender, text):
    """A miniature assistant: a greeting with a menu, one answer, three screening questions."""
    if text in ("hi", "hello"):
        return [{"text": "Hello, I'm an automated assistant.", "buttons": MENU}]
    if text == "/ask_what_is":
        return [{"text": "Mesotherapy is a series of small injections into the scalp."}]
    if text == "/contact":
        return [{"text": "Call us on +44 20 7946 0000."}]
    if text == "screen me":
        return [{"text": "Are you pregnant?", "buttons": [{"title": "Yes", "payload": "yes"}, {"title": "No", "payload": "no"}]}]
    if text in ("yes", "no") and SERVER.asked.get(sender) is None:
        SERVER.asked[sender] = [text]
        return [{"text": "Are you allergic to anything?"}]
    if text in ("yes", "no") and len(SERVER.asked[sender]) == 1:
        SERVER.asked[sender].append(text)
        return [{"text": "Have you got an infection?"}]
    if text in ("yes", "no"):
        answers = SERVER.asked.pop(sender) + [text]
        said = " and ".join(q for q, a in zip(("pregnancy", "allergy", "infection"), answers) if a == "yes")
        return [{"text": f"Result: you mentioned {said or 'nothing'}."}]
    if text.startswith("my clinic is "):
        return [{"text": "You said " + text[len("my clinic is "):]}]
    if text == "clinic?":
        return [{"text": f"This is {CURRENT_CLINIC['name']} ({CURRENT_CLINIC['phone']}); emergencies: "
                         f"{CURRENT_CLINIC['emergency_number']}."}]
    if text == "custom":
        return [{"custom": {"kind": "map"}}, {"image": "https://example.org/x.png"}]
    return [{"text": "Sorry, I didn't understand that."}]


CURRENT_CLINIC = dict(CLINIC)


class FakeRasa(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls = []  # (path, sender, message)
        self.asked = {}
        self.issued = []  # sender ids handed out by /webhooks/rest/session

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/webhooks/rest/session":  # the channel's contract (channels/rest.py)
            self.server.issued.append(f"issued-{len(self.server.issued) + 1}")
            return self.answer(200, {"sender": self.server.issued[-1]})
        body = json.loads(raw)
        self.server.calls.append((self.path, body["sender"], body["message"]))
        if self.path != "/webhooks/rest/webhook":
            return self.answer(404, {"error": "not found"})
        if body["sender"] not in self.server.issued:
            return self.answer(403, {"error": "unknown_session"})
        self.answer(200, bot_script(body["sender"], body["message"]))

    def answer(self, status, data):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


SERVER: FakeRasa


@pytest.fixture
def rasa():
    global SERVER
    SERVER = FakeRasa()
    thread = threading.Thread(target=SERVER.serve_forever, daemon=True)
    thread.start()
    CURRENT_CLINIC.clear()
    CURRENT_CLINIC.update(CLINIC)
    yield SERVER
    SERVER.shutdown()
    SERVER.server_close()


def scenario(text):
    (only,) = parse_scenarios(yaml.safe_load(text), "inline.yml")
    return only


def write(tmp_path, text, name="probes.yml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ talking to the channel

def test_send_posts_to_the_rest_webhook_and_returns_the_messages(rasa):
    sender = new_sender(rasa.url, timeout=5)
    assert rasa.issued == [sender]
    messages = send(rasa.url, sender, "hi", timeout=5)
    assert messages[0]["text"].startswith("Hello") and messages[0]["buttons"] == MENU
    assert rasa.calls == [("/webhooks/rest/webhook", sender, "hi")]
    with pytest.raises(ValueError, match="403"):
        send(rasa.url, "made-up", "hi", timeout=5)


def test_render_shows_buttons_as_bracketed_titles_and_keeps_other_payloads():
    text = render([{"text": "Hello", "buttons": MENU}, {"custom": {"kind": "map"}}, {"image": "https://x/y.png"}])
    assert text.splitlines() == ["Hello", "[What is mesotherapy?]", "[Contact the clinic]",
                                 '{"kind": "map"}', "(image: https://x/y.png)"]


# ------------------------------------------------------------------ the four outcomes

def test_a_passing_scenario_with_user_click_and_patient_turns(rasa):
    result = run_scenario(scenario(r"""
- name: everything works
  turns:
    - user: hi
      expect: ["AUTOMATED assistant", "\\[What is mesotherapy\\?\\]"]
      forbid: ["zinc"]
    - click: "what is meso"
      expect: ["injections", "scalp"]
    - user: screen me
      expect: "pregnant"
    - patient:
        answers: [["allerg", "yes"], [".", "no"]]
        until: "^Result"
      expect: ["you mentioned allergy"]
      forbid: ["pregnancy", "infection"]
"""), rasa.url, timeout=5)
    assert result.passed, result.reason
    assert [m for _, _, m in rasa.calls] == ["hi", "/ask_what_is", "screen me", "no", "yes", "no"]
    assert {s for _, s, _ in rasa.calls} == {result.sender}  # one conversation
    assert result.transcript[0] == "> hi" and len(result.latencies) == 6


def test_a_missing_expectation_fails_and_stops_the_scenario(rasa):
    result = run_scenario(scenario("""
- name: wrong answer
  turns:
    - user: hi
      expect: ["automated", "minoxidil"]
    - user: hello
"""), rasa.url, timeout=5)
    assert not result.passed
    assert "turn 1" in result.reason and "missing /minoxidil/" in result.reason and "Hello, I'm an automated" in result.reason
    assert len(rasa.calls) == 1  # the second turn was not sent


def test_a_forbidden_match_fails(rasa):
    result = run_scenario(scenario("""
- name: says too much
  turns:
    - user: hi
    - click: Contact
      expect: ["call us"]
      forbid: ["\\\\+44"]
"""), rasa.url, timeout=5)
    assert not result.passed and "turn 2" in result.reason and "forbidden /\\+44/" in result.reason


def test_a_click_on_a_missing_button_fails_with_the_titles_offered(rasa):
    result = run_scenario(scenario("""
- name: no such button
  turns:
    - user: hi
    - click: "Book a consultation"
"""), rasa.url, timeout=5)
    assert not result.passed
    assert "no button matching /Book a consultation/" in result.reason
    assert "What is mesotherapy?" in result.reason and "Contact the clinic" in result.reason
    assert len(rasa.calls) == 1


# ------------------------------------------------------------------ patient details, senders, errors

def test_a_patient_that_never_reaches_until_fails_after_max_answers(rasa):
    result = run_scenario(scenario("""
- name: endless
  turns:
    - user: hi
    - patient:
        answers: [[".", "what?"]]
        until: "never said"
        max: 3
"""), rasa.url, timeout=5)
    assert not result.passed and "after 3 answers" in result.reason and "never said" in result.reason
    assert [m for _, _, m in rasa.calls] == ["hi", "what?", "what?", "what?"]


def test_may_skip_answers_nothing_when_the_outcome_is_already_there(rasa):
    result = run_scenario(scenario("""
- name: already there
  turns:
    - user: hi
    - patient:
        may_skip: true
        until: "automated"
      expect: ["Contact the clinic"]
"""), rasa.url, timeout=5)
    assert result.passed, result.reason
    assert [m for _, _, m in rasa.calls] == ["hi"]


def test_the_patient_default_answer_is_used_when_no_rule_matches(rasa):
    result = run_scenario(scenario("""
- name: defaults
  turns:
    - user: screen me
    - patient:
        answers: [["infection", "yes"]]
        default: "yes"
        until: "Result"
      expect: ["pregnancy and allergy and infection"]
"""), rasa.url, timeout=5)
    assert result.passed, result.reason


def test_every_scenario_gets_its_own_fresh_sender(rasa, tmp_path):
    path = write(tmp_path, "- name: a\n  turns: [{user: hi}, {user: hello}]\n- name: b\n  turns: [{user: hi}]\n")
    results = run_file(path, rasa.url, timeout=5)
    assert [r.passed for r in results] == [True, True]
    senders = [s for _, s, _ in rasa.calls]
    assert senders[0] == senders[1] != senders[2]
    assert results[0].sender != results[1].sender
    again = run_file(path, rasa.url, timeout=5)
    assert again[0].sender not in senders  # not derived from the name
    assert rasa.issued == [senders[0], senders[2], again[0].sender, again[1].sender]  # all issued by the server


def test_an_unreachable_assistant_fails_the_scenario_without_crashing(rasa):
    url = rasa.url
    rasa.shutdown()
    rasa.server_close()
    result = run_scenario(scenario("- name: down\n  turns: [{user: hi}]\n"), url, timeout=2)
    assert not result.passed and "request failed" in result.reason


# ------------------------------------------------------------------ placeholders from clinic.yml

def test_placeholders_are_the_clinic_file_values():
    values = placeholders(CLINIC)
    assert values["clinic_name"] == CLINIC["name"] and values["clinic_phone"] == CLINIC["phone"]
    assert values["clinic_email"] == CLINIC["email"] and values["clinic_hours"] == CLINIC["hours"]
    assert values["emergency_number"] == CLINIC["emergency_number"] and values["urgent_care"] == CLINIC["urgent_care"]
    assert values["clinic_retention"] == CLINIC["retention"]
    assert placeholders() == values  # the default is the assistant's clinic.yml


def test_the_default_clinic_file_is_the_repositorys_content(monkeypatch):
    monkeypatch.delenv("MESOGUIDE_CONTENT_DIR", raising=False)
    assert probe_runner.clinic_file() == ROOT / "data" / "content" / "clinic.yml"
    assert placeholders()["clinic_name"] == yaml.safe_load(probe_runner.clinic_file().read_text())["name"]


def test_fill_escapes_values_in_regexes_only_and_leaves_quantifiers_alone():
    values = {"clinic_phone": "+44 (0)20 7946 0000"}
    assert fill(r"call {clinic_phone} \d{2,4} x{3}", values, escape=True) == r"call \+44\ \(0\)20\ 7946\ 0000 \d{2,4} x{3}"
    assert fill("ring {clinic_phone}", values, escape=False) == "ring +44 (0)20 7946 0000"
    with pytest.raises(ProbeFormatError, match=r"\{clinic_fax\}.*known: \{clinic_phone\}"):
        fill("{clinic_fax}", values, escape=True)


def test_the_default_clinic_file_follows_mesoguide_content_dir(tmp_path, monkeypatch):
    (tmp_path / "clinic.yml").write_text("name: Elsewhere\nphone: '1'\n", encoding="utf-8")
    monkeypatch.setenv("MESOGUIDE_CONTENT_DIR", str(tmp_path))
    assert placeholders()["clinic_name"] == "Elsewhere"


PLACEHOLDER_PROBE = r"""
- name: clinic details
  turns:
    - user: "clinic?"
      expect: ["This is {clinic_name} \\({clinic_phone}\\)", "emergencies: {emergency_number}\\."]
      forbid: ["Riverside"]
    - user: "my clinic is {clinic_name}"
      expect: ["You said {clinic_name}$"]
"""


def test_placeholders_follow_an_edited_copy_of_clinic_yml(rasa, tmp_path):
    clinic = dict(CLINIC, name="St. Mary's (Hair) Clinic", phone="+1 555 0100", emergency_number="112")
    clinic_file = tmp_path / "clinic.yml"
    clinic_file.write_text(yaml.safe_dump(clinic), encoding="utf-8")
    CURRENT_CLINIC.update(clinic)  # the "assistant" now runs with the edited file
    probes = write(tmp_path, PLACEHOLDER_PROBE)

    (edited,) = run_file(probes, rasa.url, timeout=5, clinic=load_clinic(clinic_file))
    assert edited.passed, edited.reason
    assert rasa.calls[-1][2] == "my clinic is St. Mary's (Hair) Clinic"  # sent text: not escaped

    (stale,) = run_file(probes, rasa.url, timeout=5, clinic=CLINIC)  # the unedited values no longer match
    assert not stale.passed and "missing" in stale.reason

    # the command line's --clinic does the same
    assert main([str(probes), "--url", rasa.url, "--timeout", "5", "--clinic", str(clinic_file)]) == 0


def test_placeholders_default_to_the_assistants_clinic_yml_through_monkeypatched_send(monkeypatch, tmp_path):
    sent = []

    def fake_send(url, sender, text, timeout=30.0):
        sent.append(text)
        return [{"text": f"Call {CLINIC['name']} on {CLINIC['phone']} or {CLINIC['emergency_number']} in an emergency."}]

    monkeypatch.setattr(probe_runner, "send", fake_send)
    monkeypatch.setattr(probe_runner, "new_sender", lambda url, timeout=30.0: "issued-elsewhere")
    probes = write(tmp_path, """
- name: defaults
  turns:
    - user: "is this {clinic_name}?"
      expect: ["Call {clinic_name} on {clinic_phone}", "{emergency_number} in an emergency"]
""")
    (result,) = run_file(probes, "http://unused.invalid")
    assert result.passed, result.reason
    assert sent == [f"is this {CLINIC['name']}?"]


def test_an_unknown_placeholder_fails_the_scenario_by_name(rasa):
    result = run_scenario(scenario('- name: typo\n  turns: [{user: hi, expect: ["{clinic_nmae}"]}]\n'), rasa.url, timeout=5)
    assert not result.passed and "unknown placeholder {clinic_nmae}" in result.reason


# ------------------------------------------------------------------ the file format

@pytest.mark.parametrize("text,message", [
    ("name: x", "list of scenarios"),
    ("- turns: [{user: hi}]", "with a `name`"),
    ("- name: x\n  turns: []", "non-empty list"),
    ("- name: x\n  turns: [{user: hi, click: y}]", "exactly one of"),
    ("- name: x\n  turns: [{user: hi, expext: [y]}]", "unknown keys"),
    ("- name: x\n  turns: [{click: Book}]", "first turn cannot click"),
    ("- name: x\n  turns: [{user: hi}, {user: no}]", 'quote'),
    ("- name: x\n  turns: [{user: hi}, {patient: {answers: [[a, b]]}}]", "at least `until`"),
    ("- name: x\n  turns: [{user: hi}, {patient: {until: a, answers: [[a, yes]]}}]", "quote"),
    ("- name: x\n  turns: [{user: hi, expect: ['(']}]", "bad regex"),
    ("- name: x\n  turns: [{user: hi}]\n- name: x\n  turns: [{user: hi}]", "used twice"),
])
def test_malformed_files_are_rejected_with_the_reason(text, message):
    with pytest.raises(ProbeFormatError, match=message):
        parse_scenarios(yaml.safe_load(text), "bad.yml")


@pytest.mark.parametrize("path", PROBE_FILES, ids=[p.stem for p in PROBE_FILES])
def test_the_project_probe_files_are_valid_and_use_known_placeholders(path):
    scenarios = load_scenarios(path)
    assert scenarios
    values = placeholders(CLINIC)
    for sc in scenarios:
        for turn in sc.turns:
            for pattern in turn["expect"] + turn["forbid"] + ([turn["click"]] if "click" in turn else []):
                fill(pattern, values, escape=True)  # raises on an unknown placeholder
            if "user" in turn:
                fill(turn["user"], values, escape=False)


def test_the_project_probe_files_do_not_hard_code_the_clinic_details():
    details = [CLINIC[k] for k in ("name", "phone", "email", "urgent_care")]
    details += [CLINIC["phone"].replace(" ", "\\ "), CLINIC["phone"].replace("+", "\\\\+")]
    for path in PROBE_FILES:
        text = path.read_text(encoding="utf-8")
        assert not [d for d in details if d in text], path.name
        for sc in load_scenarios(path):
            for turn in sc.turns:
                assert CLINIC["emergency_number"] not in turn["expect"] + turn["forbid"], (path.name, sc.name)


# ------------------------------------------------------------------ the command line

def test_the_command_line_prints_a_line_per_scenario_and_the_counts(rasa, tmp_path, capsys):
    probes = write(tmp_path, """
- name: good one
  turns: [{user: hi, expect: [automated]}]
- name: bad one
  turns: [{user: hi, expect: [minoxidil]}]
""")
    out_json = tmp_path / "out" / "r.json"
    code = main([str(probes), "--url", rasa.url, "--timeout", "5", "--json", str(out_json)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "PASS good one" in out and "FAIL bad one" in out
    assert out[-1] == "1 passed, 1 failed"
    saved = json.loads(out_json.read_text())
    assert [(r["name"], r["passed"]) for r in saved["results"]] == [("good one", True), ("bad one", False)]
    assert saved["summary"] == "1 passed, 1 failed" and len(saved["latencies"]) == 2

    assert main([str(probes), "--url", rasa.url, "--only", "good", "-v"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "       > hi" in out and out[-1] == "1 passed, 0 failed"


def test_the_command_line_reports_a_malformed_file(tmp_path, capsys):
    probes = write(tmp_path, "- name: x\n  turns: [{shout: hi}]\n")
    assert main([str(probes), "--url", "http://127.0.0.1:9"]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_the_module_runs_as_a_command(rasa, tmp_path):
    import subprocess
    import sys

    probes = write(tmp_path, "- name: greets\n  turns: [{user: hi, expect: ['{clinic_name}|automated']}]\n")
    proc = subprocess.run([sys.executable, "-m", "tests.probe_runner", str(probes), "--url", rasa.url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "1 passed, 0 failed"
