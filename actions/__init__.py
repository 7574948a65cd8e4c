"""MesoGuide's custom actions, one module per capability.

The action server imports this package (``rasa run actions`` finds the Action
subclasses in its modules).
"""
import os

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from actions import (  # noqa: E402,F401  (registers the actions)
    claims,
    comparison,
    consultation,
    conversation,
    knowledge,
    routing,
    safety,
    screening,
    session,
    triage,
)
