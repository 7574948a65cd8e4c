"""channels/rasa_hot_paths.py: Rasa's behaviour, without its repeated work: the action
server's answers are checked against a schema compiled once (Rasa's error on a bad
answer), and event types are found by name in a table."""
import pytest
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

from channels import rasa_hot_paths

GOOD = {"events": [{"event": "slot", "name": "last_answer", "value": "knowledge:what_is"}],
        "responses": [{"text": "Mesotherapy is...", "buttons": []}]}
BAD = {"events": "not a list", "responses": []}


@pytest.fixture
def installed():
    rasa_hot_paths.install()
    yield
    rasa_hot_paths.uninstall()


def _action():
    return RemoteAction("action_answer_knowledge", EndpointConfig("http://localhost:1/webhook"))


def test_good_answers_pass_and_the_schema_is_checked_once_not_per_answer(installed, monkeypatch):
    cls = validators.validator_for(RemoteAction.action_response_format_spec())
    checks = []
    original = cls.check_schema.__func__
    monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s, *a, **k: checks.append(1) or original(c, s, *a, **k)))
    monkeypatch.setattr(rasa_hot_paths, "_compiled", None)
    for _ in range(5):
        assert _action()._validate_action_result(GOOD) is True
    assert checks == [1]


def test_a_bad_answer_raises_rasas_error(installed):
    with pytest.raises(ValidationError) as raised:
        _action()._validate_action_result(BAD)
    assert "Failed to validate Action server response" in raised.value.message


def test_event_types_resolve_as_rasa_resolves_them(installed):
    for name, cls in (("user", UserUttered), ("bot", BotUttered), ("slot", SlotSet), ("action", ActionExecuted)):
        assert Event.resolve_by_type(name) is cls
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None  # Rasa's own backwards compatibility
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    event = Event.from_parameters({"event": "slot", "name": "keep_answers", "value": False})
    assert isinstance(event, SlotSet) and event.value is False


def test_an_event_type_defined_after_install_is_still_found(installed):
    class LateEvent(Event):  # noqa: D401 - a subclass imported after the table was built
        type_name = "mesoguide_late_event_for_test"

        def as_story_string(self):
            return None

        def __eq__(self, other):
            return isinstance(other, LateEvent)

        __hash__ = Event.__hash__

    assert Event.resolve_by_type("user") is UserUttered  # the table exists
    assert Event.resolve_by_type("mesoguide_late_event_for_test") is LateEvent


def test_install_is_idempotent_and_uninstall_restores_rasas_methods():
    rasa_validate, rasa_resolve = RemoteAction._validate_action_result, Event.resolve_by_type
    rasa_hot_paths.install()
    rasa_hot_paths.install()
    assert RemoteAction._validate_action_result.__wrapped__ is rasa_validate
    assert Event.resolve_by_type.__wrapped__ is rasa_resolve
    rasa_hot_paths.uninstall()
    assert RemoteAction._validate_action_result is rasa_validate and Event.resolve_by_type is rasa_resolve


def test_loading_the_rest_channel_installs_them_in_rasas_process():
    from channels import action_faults
    from channels.rest import LimitedRestInput

    rasa_validate, rasa_resolve = RemoteAction._validate_action_result, Event.resolve_by_type
    try:
        LimitedRestInput.from_credentials({})
        assert RemoteAction._validate_action_result.__wrapped__ is rasa_validate
        assert Event.resolve_by_type.__wrapped__ is rasa_resolve
    finally:
        rasa_hot_paths.uninstall()
        action_faults.uninstall()
