"""Two of Rasa 3.6's per-message costs, cut without changing what Rasa does.

``install()`` is called when the REST channel is loaded into Rasa's process (beside
``channels.action_faults``). Each replacement keeps Rasa's behaviour, results and
errors; only repeated work is done once. Measured in docs/performance.md ("Two hot
paths in Rasa's own code").

1. **The action server's answers.** Rasa checks every custom action's answer with
   ``jsonschema.validate(answer, schema)`` (``RemoteAction._validate_action_result``),
   which first checks the schema itself against the JSON-Schema meta-schema, on every
   call: about 50 ms of CPU per custom action with jsonschema 4.17, more than the rest
   of a turn. Here the schema is checked once and the compiled validator kept; a bad
   answer goes through Rasa's own method, so the error is Rasa's (a
   ``jsonschema.ValidationError`` with its explanation appended).
2. **Event types by name.** Every event read from a dictionary (the tracker store, the
   action server's answers) is resolved by ``Event.resolve_by_type``, which walks every
   subclass of ``Event`` recursively for each event. Here the names are looked up in a
   table built from the same walk; a name not in the table (a subclass imported later)
   goes through Rasa's own method and the table is rebuilt.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

_FLAG = "_mesoguide_hot_path"
_compiled: Optional[Any] = None
_event_types: Dict[Text, Type[Event]] = {}


def _validator() -> Any:
    global _compiled
    if _compiled is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate would on every call
        _compiled = cls(schema)
    return _compiled


def _event_table() -> Dict[Text, Type[Event]]:
    table: Dict[Text, Type[Event]] = {}
    for cls in all_subclasses(Event):  # Rasa's order: the first class with the name wins
        table.setdefault(cls.type_name, cls)
    return table


def install() -> None:
    """Replaces the two methods (once per process)."""
    if getattr(RemoteAction._validate_action_result, _FLAG, False):
        return
    rasa_validate = RemoteAction._validate_action_result
    rasa_resolve = Event.resolve_by_type

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            _validator().validate(result)
            return True
        except ValidationError:
            return rasa_validate(self, result)  # Rasa's own path: its message on the error

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        global _event_types
        found = _event_types.get(type_name)
        if found is None:
            _event_types = _event_table()
            found = _event_types.get(type_name)
        return found if found is not None else rasa_resolve(type_name, default)

    for replacement, original in ((validate_action_result, rasa_validate), (resolve_by_type, rasa_resolve)):
        setattr(replacement, _FLAG, True)
        replacement.__wrapped__ = original
    RemoteAction._validate_action_result = validate_action_result
    Event.resolve_by_type = staticmethod(resolve_by_type)


def uninstall() -> None:
    """Restores Rasa's own methods (tests)."""
    current = RemoteAction._validate_action_result
    if getattr(current, _FLAG, False):
        RemoteAction._validate_action_result = current.__wrapped__
        Event.resolve_by_type = staticmethod(Event.resolve_by_type.__wrapped__)
