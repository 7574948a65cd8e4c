"""Session start: the disclosure comes before anything else, in every new session."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import say


class ActionSessionStart(Action):
    """Starts a session and shows the disclosure before anything else."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say(dispatcher, "disclosure")
        return [SessionStarted(), ActionExecuted("action_listen")]
