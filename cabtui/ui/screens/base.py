"""The base of cabtui's screens: the typed App accessor and the forwarding of worker states
to the App's one policy for failed workers (:meth:`cabtui.ui.base.CabBase.worker_failed`)."""

from __future__ import annotations

from typing import TypeVar

from textual import getters
from textual.screen import Screen
from textual.worker import Worker

from cabtui.ui.base import CabBase

ResultT = TypeVar("ResultT")


class CabScreen(Screen[ResultT]):
    app = getters.app(CabBase)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # a worker's state goes to the node that ran it (it does not bubble): hand it on
        self.app.worker_changed(self, event)

    def show_failure(self, group: str, reason: str) -> bool:
        """Show why the worker of ``group`` failed on this screen; False leaves it to the app,
        which notifies. ``reason`` is data: escape it (:func:`cabtui.text.safe`)."""
        return False
