"""Who may do what: the rules the Train page, the teacher's page, the job manager and the CLI share.

- The shipped models (`pretrained-*`) are read-only for everyone: no rename, delete or continue.
- A run's owner, and the teacher, may rename, delete, stop or continue it; laptop mode's one
  user is everyone's teacher. Other students may look at it (when the teacher lets them) and
  use it, never change it.
- An imported data set may be deleted by whoever imported it and by the teacher.
- In class mode a browser names no path on the server except below the folders the teacher
  lists (`fer.classroom`); none by default, so uploads only.

`refusal(...)` answers None (allowed) or the sentence to show; `check(...)` raises it.
"""

from __future__ import annotations

import os
from pathlib import Path

from fer.accounts import User
from fer.i18n import _, pgettext

RENAME, DELETE, STOP, CONTINUE = "rename", "delete", "stop", "continue"
ACTIONS = (RENAME, DELETE, STOP, CONTINUE)
# Each action as the refusals say it ("... may rename it"), in the reader's language.
ACTION_WORDS = {
    RENAME: lambda: pgettext("permission", "rename"),
    DELETE: lambda: pgettext("permission", "delete"),
    STOP: lambda: pgettext("permission", "stop"),
    CONTINUE: lambda: pgettext("permission", "continue"),
}
SHIPPED_PREFIX = "pretrained-"  # fer.registry.PRETRAINED_PREFIX (registry imports this module's rules)


class NotAllowed(ValueError):
    """An action this user may not take; the message says whose it is and who may."""


def is_shipped(run_name: str) -> bool:
    return run_name.startswith(SHIPPED_PREFIX)


def refusal(user: User, action: str, run_name: str, owner: str | None) -> str | None:
    """None when `user` may `action` the run `run_name` (recorded owner `owner`); else why not, in a sentence."""
    if action not in ACTIONS:
        raise ValueError(_("Unknown action {action}: one of {actions}.").format(
            action=repr(action), actions=", ".join(ACTIONS)
        ))
    verb = ACTION_WORDS[action]()
    if is_shipped(run_name) and action != STOP:
        return _("{run} is a shipped model and read-only for everyone: train a run of your own to {action}.").format(
            run=run_name, action=verb
        )
    if user.is_teacher or (owner is not None and owner == user.name):
        return None
    if owner:
        return _("{run} is {owner}'s run: only its owner or the teacher may {action} it.").format(
            run=run_name, owner=owner, action=verb
        )
    return _(
        "{run} is not your run (it has no recorded owner): only its owner or the teacher may {action} it."
    ).format(run=run_name, action=verb)


def check(user: User, action: str, run_name: str, owner: str | None) -> None:
    sentence = refusal(user, action, run_name, owner)
    if sentence:
        raise NotAllowed(sentence)


def dataset_refusal(user: User, dataset: str, owner: str | None) -> str | None:
    """None when `user` may delete the imported data set `dataset` (recorded importer `owner`); else why not."""
    if user.is_teacher or (owner is not None and owner == user.name):
        return None
    if owner:
        return _("The data set {dataset} was imported by {owner}: only they or the teacher may delete it.").format(
            dataset=dataset, owner=owner
        )
    return _("The data set {dataset} was imported by the teacher: only they or the teacher may delete it.").format(
        dataset=dataset
    )


def check_dataset(user: User, dataset: str, owner: str | None) -> None:
    sentence = dataset_refusal(user, dataset, owner)
    if sentence:
        raise NotAllowed(sentence)


def allowed_server_path(typed: str, allowed_folders: tuple[Path, ...]) -> Path:
    """The real path of `typed` when it lies below one of `allowed_folders`; else NotAllowed.

    Links are followed first, so a link inside an allowed folder that leads out of it is refused.
    Nothing outside the folders is looked at (not even whether it exists). A relative path is
    read from the first folder.
    """
    if not allowed_folders:
        raise NotAllowed(_("This class server imports uploads only: no folder on the server is open to browsers "
                           "(the teacher lists them in .streamlit/secrets.toml, allowed_folders)."))
    text = str(typed).strip()
    if not text or "\x00" in text:
        raise NotAllowed(
            _("Give the path of a file or folder below {folders}.").format(folders=_listed(allowed_folders))
        )
    path = Path(os.path.expanduser(text)) if text.startswith("~") else Path(text)
    if not path.is_absolute():
        path = allowed_folders[0] / path
    real = Path(os.path.realpath(path))
    for folder in allowed_folders:
        if real == folder or real.is_relative_to(folder):
            return real
    raise NotAllowed(_("{path} is not below a folder this class server opens to browsers ({folders}): "
                       "upload the file instead, or ask the teacher to put it there.").format(
        path=text, folders=_listed(allowed_folders)
    ))


def _listed(folders: tuple[Path, ...]) -> str:
    return ", ".join(str(folder) for folder in folders)
