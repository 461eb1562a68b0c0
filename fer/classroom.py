"""How this server runs: laptop mode (the default) or class mode, and what class mode allows.

The settings come from Streamlit's secrets, the `[fer]` table of `.streamlit/secrets.toml`
(never from code, never from a URL), and one environment variable:

    [fer]
    class_mode = true                      # students and the teacher sign in
    teacher_password = "a long passphrase" # the teacher's sign-in
    allowed_folders = ["/srv/fer-data"]    # server folders a browser may import from (none: uploads only)

`FER_CLASS_MODE=1` (or `0`) in the environment overrides `class_mode`. A setting that cannot be
read is an error, never a quiet fall back to laptop mode, which would open everything to a class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from fer.i18n import N_, _

SECRETS_TABLE = "fer"
CLASS_MODE_VARIABLE = "FER_CLASS_MODE"
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ClassSettingsError(ValueError):
    """A class-server setting that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class ClassSettings:
    class_mode: bool = False
    teacher_password: str | None = None
    allowed_folders: tuple[Path, ...] = ()  # resolved, existing folders

    @classmethod
    def from_sources(cls, secrets: Mapping[str, Any] | None,
                     environ: Mapping[str, str] = os.environ) -> "ClassSettings":
        """The settings in `secrets["fer"]`, with `$FER_CLASS_MODE` overriding `class_mode`."""
        table = (secrets or {}).get(SECRETS_TABLE) or {}
        if not isinstance(table, Mapping):
            raise ClassSettingsError(_("[fer] in .streamlit/secrets.toml must be a table of settings "
                                       "(class_mode, teacher_password, allowed_folders)."))
        class_mode = _flag(
            table.get("class_mode", False),
            N_("class_mode in .streamlit/secrets.toml is {value}: write true or false (1 or 0)."),
        )
        if environ.get(CLASS_MODE_VARIABLE) is not None:
            class_mode = _flag(
                environ[CLASS_MODE_VARIABLE],
                N_("The environment variable {variable} is {value}: write true or false (1 or 0)."),
            )
        password = table.get("teacher_password")
        if password is not None and not isinstance(password, str):
            raise ClassSettingsError(_("teacher_password in .streamlit/secrets.toml must be text in quotes."))
        return cls(class_mode, password or None, _folders(table.get("allowed_folders", ())))


def _flag(value: Any, refusal: str) -> bool:
    """`value` read as true or false; else a ClassSettingsError with `refusal` ({value}, {variable})."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ClassSettingsError(_(refusal).format(value=repr(value), variable=CLASS_MODE_VARIABLE))


def _folders(value: Any) -> tuple[Path, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ClassSettingsError(_("allowed_folders in .streamlit/secrets.toml must be a list of folder paths, "
                                   'e.g. ["/srv/fer-data"].'))
    folders = []
    for entry in value:
        path = Path(str(entry)).expanduser()
        if not path.is_absolute():
            raise ClassSettingsError(_("allowed_folders: {entry} is not an absolute path: write it from the root, "
                                       "e.g. /srv/fer-data.").format(entry=repr(entry)))
        if not path.is_dir():
            raise ClassSettingsError(_("allowed_folders: {entry} is not a folder on this server: create it or "
                                       "remove it from the list.").format(entry=repr(entry)))
        resolved = path.resolve()
        if resolved == Path(resolved.anchor):
            raise ClassSettingsError(_("allowed_folders: {entry} is the whole file system: list the folder that "
                                       "holds the data sets instead.").format(entry=repr(entry)))
        folders.append(resolved)
    return tuple(folders)
