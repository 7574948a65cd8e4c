"""Checks the action server's answers with a schema compiled once, not once per call.

Rasa 3.6 checks every custom action's answer with ``jsonschema.validate(answer,
schema)`` (``RemoteAction._validate_action_result``). That function first checks the
schema itself against the JSON-Schema meta-schema, on every call: about 50 ms of CPU
per custom action on this machine with jsonschema 4.17, more than the whole rest of a
turn (docs/performance.md, "Where a custom-action call's time goes"). ``install()``
(called when the REST channel is loaded into Rasa's process, beside
``channels.action_faults``) replaces that method with one that checks the schema once,
keeps the compiled validator, and validates each answer with it: the same schema, the
same error (a ``jsonschema.ValidationError`` with Rasa's explanation appended), only
without repeating the meta-schema check.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction

_FLAG = "_mesoguide_compiled"
_compiled: Optional[Any] = None


def _validator() -> Any:
    global _compiled
    if _compiled is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate would on every call
        _compiled = cls(schema)
    return _compiled


def install() -> None:
    """Replaces ``RemoteAction._validate_action_result`` (once per process)."""
    current = RemoteAction._validate_action_result
    if getattr(current, _FLAG, False):
        return
    original = current

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            _validator().validate(result)
            return True
        except ValidationError:
            return original(self, result)  # Rasa's own path: its message on the error

    setattr(validate_action_result, _FLAG, True)
    validate_action_result.__wrapped__ = original
    RemoteAction._validate_action_result = validate_action_result


def uninstall() -> None:
    """Restores Rasa's own method (tests)."""
    current = RemoteAction._validate_action_result
    if getattr(current, _FLAG, False):
        RemoteAction._validate_action_result = current.__wrapped__
