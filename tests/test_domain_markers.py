"""The fixed emergency and urgent-care answers carry the marker the chat widget shows
as an alert (web/README.md); the widget does not recognise them by their words."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_fixed_safety_answers_carry_the_widget_alert_marker():
    responses = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    # (the second and third variants: thoughts of suicide or self-harm, the visitor's or
    # another person's, chosen by the emergency_kind slot)
    assert [r.get("custom") for r in responses["utter_emergency"]] == [{"kind": "emergency"}] * 3
    assert [r["condition"] for r in responses["utter_emergency"][1:]] == [
        [{"type": "slot", "name": "emergency_kind", "value": kind}] for kind in ("self_harm", "self_harm_someone_else")]
    assert [r.get("custom") for r in responses["utter_complication"]] == [{"kind": "urgent_care"}]
    # nothing else is marked: a "did you mean" line must not look like an emergency
    marked = {name for name, variants in responses.items() for r in variants if r.get("custom")}
    assert marked == {"utter_emergency", "utter_complication"}
