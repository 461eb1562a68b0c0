"""Append-only logs of training events that any number of readers can follow: in memory or in a file.

The training thread appends; a page, a terminal progress bar or a test reads from an index
onwards (`log.since(index)`), remembers how far it got, and comes back later. Nothing is ever
removed, so two readers never steal events from each other.

Sentences kept in these files (and in a run's status.json and metrics.json) are stored as
`sentence(N_("... {name} ..."), name=...)`: the English message id and its parameters, so each
reader sees them in their own language (`shown`), while `english` gives the text older versions wrote.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fer.i18n import _, translated_text


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


class EventFile:
    """The same interface as `EventLog`, kept in a JSON-lines file that outlives the process.

    A training worker appends; the server, the command line or a test in another process reads.
    Readers parse only what was added since their last look. A line cut off by a crash (no
    newline yet) is left for later and skipped if it never completes.
    """

    def __init__(self, path) -> None:
        from pathlib import Path

        self.path = Path(path)
        self._lock = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._offset = 0

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        import json

        with self._lock:
            self._refresh()
            event = {"kind": kind, "time": time.time(), **fields, "index": len(self._events)}
            line = json.dumps(event, default=_plain) + "\n"
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
            self._refresh()
            return event

    def _refresh(self) -> None:
        import json

        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n") + 1
        for line in chunk[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line damaged by a crash
            event["index"] = len(self._events)
            self._events.append(event)
        self._offset += end

    def since(self, index: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            self._refresh()
            return list(self._events[index:])

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.since() if event["kind"] == kind]

    def last(self, kind: str | None = None) -> dict[str, Any] | None:
        for event in reversed(self.since()):
            if kind is None or event["kind"] == kind:
                return event
        return None

    def wait(self, index: int, timeout: float | None = None) -> list[dict[str, Any]]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            fresh = self.since(index)
            if fresh or (deadline is not None and time.monotonic() >= deadline):
                return fresh
            time.sleep(0.1)

    def __len__(self) -> int:
        return len(self.since())


def _plain(value: Any) -> Any:
    """NumPy numbers and other odd values as JSON can hold them."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def current_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of the run as it stands: a resume at epoch k replaces what epochs k.. had logged.

    A run killed in the middle of epoch 7 and continued from its checkpoint logs epoch 7 again;
    charts and tables should show that epoch once, as it was finally trained.
    """
    kept: list[dict[str, Any]] = []
    for event in events:
        if event["kind"] == "resumed":
            first = event["from_epoch"]
            kept = [old for old in kept if old["kind"] not in ("batch", "epoch") or old["epoch"] < first]
        kept.append(event)
    return kept


# ----------------------------------------------------------------------------- sentences kept in files


def sentence(msgid: str, **params: Any) -> dict[str, Any]:
    """A sentence to keep in a file: its English msgid (marked with N_() by the caller) and its parameters.

    A parameter may be a sentence itself: "stopped ... ; {kept}." with kept = sentence("the best epoch, ...").
    """
    return {"msgid": msgid, "params": params}


def is_sentence(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("msgid"), str)


def _render(stored: Any, translate) -> str:
    if not is_sentence(stored):
        return "" if stored is None else str(stored)
    params = {name: _render(value, translate) if is_sentence(value) else value
              for name, value in (stored.get("params") or {}).items()}
    try:
        return translate(stored["msgid"]).format(**params)
    except (KeyError, IndexError, ValueError):  # a translation whose placeholders do not fit: the English
        return stored["msgid"].format(**params)


def english(stored: Any) -> str:
    """The sentence in English, as the files of older versions hold it."""
    return _render(stored, lambda msgid: msgid)


def shown(stored: Any) -> str:
    """A kept sentence in the reader's language; plain text (what older runs stored) is translated when
    the catalogue knows it word for word, else shown as it is."""
    if is_sentence(stored):
        return _render(stored, _)
    if isinstance(stored, str) and stored:
        return translated_text(stored)
    return "" if stored is None else str(stored)


def error(kind: type[ValueError], msgid: str, **params: Any) -> ValueError:
    """`kind` with the sentence in the reader's language, carrying it as `.sentence` for a run's files."""
    record = sentence(msgid, **params)
    raised = kind(shown(record))
    raised.sentence = record
    return raised


def error_sentence(raised: BaseException) -> dict[str, Any] | str:
    """What to keep of an error: its sentence when it has one, else its text."""
    record = getattr(raised, "sentence", None)
    return record if is_sentence(record) else str(raised)
