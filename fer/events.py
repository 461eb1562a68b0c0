"""A thread-safe, append-only log of training events that any number of readers can follow.

The training thread appends; a page, a terminal progress bar or a test reads from an index
onwards (`log.since(index)`), remembers how far it got, and comes back later. Nothing is ever
removed, so two readers never steal events from each other.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class EventLog:
    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"kind": kind, "time": time.time(), **fields}
        with self._changed:
            event["index"] = len(self._events)
            self._events.append(event)
            self._changed.notify_all()
        return event

    def since(self, index: int = 0) -> list[dict[str, Any]]:
        """Every event from position `index` on (a copy of the list, safe to keep)."""
        with self._changed:
            return list(self._events[index:])

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self._changed:
            return [event for event in self._events if event["kind"] == kind]

    def last(self, kind: str | None = None) -> dict[str, Any] | None:
        with self._changed:
            for event in reversed(self._events):
                if kind is None or event["kind"] == kind:
                    return event
        return None

    def wait(self, index: int, timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until there is an event at `index` or later (or the timeout passes)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._events) > index, timeout=timeout)
            return list(self._events[index:])

    def __len__(self) -> int:
        with self._changed:
            return len(self._events)
