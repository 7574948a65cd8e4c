"""Claims versus evidence, rendered from ``data/content/claims.yml``."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.common import latest_entities, positive_values, say
from actions.routing import condition_note

GENERAL = "general_efficacy"
# Hair problems that name an advertised benefit when asked about ("does it help dandruff?").
PROBLEM_TO_CLAIM = {"dandruff": "dandruff", "seborrhea": "sebum", "hair_loss": "stops_hair_loss", "split_ends": "split_ends",
                    "itchy_scalp": "itchy_scalp"}


def claim_text(claim_id: str) -> str:
    claim = content.claims()[claim_id]
    labels = content.claim_labels()
    return "\n\n".join(
        f"**{labels[part]}:** {claim[part].strip()}" for part in ("claim", "evidence", "meaning")
    )


def choose_claims(tracker: Tracker) -> List[str]:
    """Which claims the latest message asks about, best first."""
    known = content.claims()
    entities = latest_entities(tracker)
    chosen = [c for c in positive_values(entities, "claim_topic") if c in known]
    if not chosen:
        chosen = [PROBLEM_TO_CLAIM[p] for p in positive_values(entities, "hair_problem") if p in PROBLEM_TO_CLAIM]
    if chosen:
        return chosen[:2]
    mentions_treatment = bool(positive_values(entities, "procedure"))
    last = tracker.get_slot("last_claim")
    if last in known and not mentions_treatment:
        return [last]
    return [GENERAL]


def explain_claims(dispatcher: CollectingDispatcher, tracker: Tracker, claim_ids: Optional[List[str]] = None) -> List[Dict[Text, Any]]:
    ids = claim_ids or choose_claims(tracker)
    for cid in ids:
        dispatcher.utter_message(text=claim_text(cid))
    # "14 weeks pregnant, want meso for shine, ok?": the condition is the doctor's to hear of
    condition_note(dispatcher, tracker)
    say(dispatcher, "claim_follow_up")
    return [SlotSet("last_claim", ids[-1]), SlotSet("last_answer", f"claim:{ids[-1]}")]


class ActionExplainClaim(Action):
    def name(self) -> Text:
        return "action_explain_claim"

    async def run(self, dispatcher, tracker, domain):
        return explain_claims(dispatcher, tracker)
