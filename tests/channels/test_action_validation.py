"""channels/action_validation.py: the action server's answers are checked against
Rasa's schema compiled once, with Rasa's error on a bad answer."""
import pytest
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from channels import action_validation

GOOD = {"events": [{"event": "slot", "name": "last_answer", "value": "knowledge:what_is"}],
        "responses": [{"text": "Mesotherapy is...", "buttons": []}]}
BAD = {"events": "not a list", "responses": []}


@pytest.fixture
def installed():
    action_validation.install()
    yield
    action_validation.uninstall()


def _action():
    return RemoteAction("action_answer_knowledge", EndpointConfig("http://localhost:1/webhook"))


def test_good_answers_pass_and_the_schema_is_checked_once_not_per_answer(installed, monkeypatch):
    cls = validators.validator_for(RemoteAction.action_response_format_spec())
    checks = []
    original = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s, *a, **k: checks.append(1) or original(c, s, *a, **k)))
    monkeypatch.setattr(action_validation, "_compiled", None)
    for _ in range(5):
        assert _action()._validate_action_result(GOOD) is True
    assert checks == [1]


def test_a_bad_answer_raises_rasas_error(installed):
    with pytest.raises(ValidationError) as raised:
        _action()._validate_action_result(BAD)
    assert "Failed to validate Action server response" in raised.value.message


def test_install_is_idempotent_and_uninstall_restores_rasas_method():
    rasa_own = RemoteAction._validate_action_result
    action_validation.install()
    action_validation.install()
    assert RemoteAction._validate_action_result.__wrapped__ is rasa_own
    action_validation.uninstall()
    assert RemoteAction._validate_action_result is rasa_own


def test_loading_the_rest_channel_installs_it_in_rasas_process():
    from channels import action_faults
    from channels.rest import LimitedRestInput

    rasa_own = RemoteAction._validate_action_result
    try:
        LimitedRestInput.from_credentials({})
        assert RemoteAction._validate_action_result is not rasa_own
        assert RemoteAction._validate_action_result.__wrapped__ is rasa_own
    finally:
        action_validation.uninstall()
        action_faults.uninstall()
