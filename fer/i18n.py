"""Sentences, numbers and dates in the reader's language, from gettext catalogues.

fer marks every sentence a person reads and lets the caller choose the language:

    from fer.i18n import _, ngettext
    raise LayerError(_("The stride must be at least 1; it is {value}.").format(value=value))

The caller (a page, the CLI, a worker) says which language once per run with `set_language("zh-TW")`.
The choice lives in a `contextvars` variable, so two students' sessions, each in its own thread,
never see each other's language. Sentences kept in module-level constants are marked with `N_()`
(found by `pybabel extract`, translated later) and passed through `_()` where they are shown.

The catalogues are `locale/<ll_CC>/LC_MESSAGES/fer.po` (`make translations` extracts and updates
them, `make` compiles them to `.mo`). English is the source language: its sentences are the
message ids themselves, so it needs no catalogue. A `.po` newer than its `.mo` (or one never
compiled) is compiled in memory, so a fresh checkout reads the catalogue it holds.

To add a language: `pybabel init -D fer -d locale -i locale/fer.pot -l <ll_CC>`, translate the
new `.po`, and add its tag to `LANGUAGES`.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gettext
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path

from fer import REPO_ROOT

DOMAIN = "fer"
LOCALE_DIR = REPO_ROOT / "locale"
SOURCE_LANGUAGE = "en"
# Language tags (BCP 47, as browsers and links write them) and each language's name in itself.
LANGUAGES = {"en": "English", "zh-TW": "繁體中文"}
# Where a webcam page's sentences live in the catalogue: messages found in these files go to its JSON.
WEBCAM_SOURCES = ("static/webcam/",)

_language: ContextVar[str | None] = ContextVar("fer_language", default=None)


# ---------------------------------------------------------------------------------- choosing


def supported_language(tag: str | None) -> str | None:
    """The language of LANGUAGES that a tag asks for, or None: 'zh_TW.UTF-8', 'zh-Hant', 'zh-tw' -> 'zh-TW'.

    Every Chinese tag reads the Traditional Chinese catalogue, the only Chinese one (a reader of
    Simplified Chinese reads it more easily than English); 'C' and 'POSIX' are English.
    """
    if not tag:
        return None
    text = str(tag).strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if text in ("c", "posix"):
        return SOURCE_LANGUAGE
    for language in LANGUAGES:
        if text == language.lower():
            return language
    primary = text.split("-")[0]
    if primary == "zh":
        return "zh-TW"
    return next((language for language in LANGUAGES if language.lower().split("-")[0] == primary), None)


def best_language(tags: Iterable[str | None]) -> str:
    """The first supported language among `tags` (in order of preference), else English."""
    for tag in tags:
        language = supported_language(tag)
        if language is not None:
            return language
    return SOURCE_LANGUAGE


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language a terminal asks for, as gettext reads it: LANGUAGE (a list), LC_ALL, LC_MESSAGES, LANG."""
    environ = os.environ if environ is None else environ
    tags = []
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable)
        if value:
            tags.extend(value.split(":") if variable == "LANGUAGE" else [value])
    return best_language(tags)


def set_language(tag: str | None) -> str:
    """Make `tag`'s language (English when unsupported) the one of this context; returns the language chosen."""
    language = supported_language(tag) or SOURCE_LANGUAGE
    _language.set(language)
    return language


def current_language() -> str:
    return _language.get() or SOURCE_LANGUAGE


@contextlib.contextmanager
def language(tag: str | None) -> Iterator[str]:
    """Sentences inside the block in `tag`'s language; the previous language comes back afterwards."""
    token = _language.set(supported_language(tag) or SOURCE_LANGUAGE)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


# ---------------------------------------------------------------------------------- catalogues


def gettext_name(language: str) -> str:
    """The catalogue folder of a language tag: 'zh-TW' -> 'zh_TW'."""
    return language.replace("-", "_")


def catalogue_path(language: str, suffix: str = ".po") -> Path:
    return LOCALE_DIR / gettext_name(language) / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def _compiled_in_memory(po_path: Path) -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language`, loaded once: the compiled .mo, or the .po when the .mo is older or missing."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    po_path, mo_path = catalogue_path(language), catalogue_path(language, ".mo")
    if mo_path.exists() and (not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po_path.exists():
        return _compiled_in_memory(po_path)
    return gettext.NullTranslations()


def _(message: str) -> str:
    """`message` in the current language (itself in English, or where the catalogue has no translation)."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a sentence that fits `count`: ngettext("{n} face", "{n} faces", n).format(n=n)."""
    return translations(current_language()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` as said in `context`: the same English, another translation (a term's first use on a page)."""
    return translations(current_language()).pgettext(context, message)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}")


@functools.cache
def _templates(language: str) -> tuple[tuple[re.Pattern, str], ...]:
    """Every catalogue sentence with placeholders, as a pattern that reads its values back out of the
    English text; the most specific (the most words besides its placeholders) first."""
    found = []
    for message_id in getattr(translations(language), "_catalog", {}):
        if not isinstance(message_id, str) or "{" not in message_id or "\x04" in message_id:
            continue
        if len(re.findall(r"[A-Za-z]{2,}", _PLACEHOLDER.sub(" ", message_id))) < 2:
            continue  # "{what}: {why}" would match any sentence with a colon and translate nothing of it
        pieces, names, position = [], [], 0
        for placeholder in _PLACEHOLDER.finditer(message_id):
            pieces.append(re.escape(message_id[position : placeholder.start()]))
            name = placeholder.group(1)
            pieces.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
            names.append(name)
            position = placeholder.end()
        pieces.append(re.escape(message_id[position:]))
        try:
            found.append((re.compile("".join(pieces) + r"\Z", re.S), message_id))
        except re.error:
            continue
    found.sort(key=lambda item: -len(_PLACEHOLDER.sub("", item[1])))
    return tuple(found)


def translated_text(text: str, depth: int = 2) -> str:
    """An English sentence already filled in (kept by an older run, raised inside a worker), in the
    current language: the catalogue's sentence whose words it matches, with its values put back
    (values that are sentences themselves translated the same way); else the text as it is."""
    language = current_language()
    if language == SOURCE_LANGUAGE or not text or depth < 0:
        return text
    catalogue = translations(language)
    direct = catalogue.gettext(text)
    if direct != text:
        return direct
    for pattern, message_id in _templates(language):
        match = pattern.match(text)
        if match:
            values = {name: translated_text(value, depth - 1) if " " in value else value
                      for name, value in match.groupdict().items()}
            return _PLACEHOLDER.sub(lambda found, values=values: values.get(found.group(1), found.group(0)),
                                    catalogue.gettext(message_id))
    return text


def N_(message: str) -> str:
    """Mark a sentence for the catalogue without translating it yet (module-level constants)."""
    return message


# The seven expressions in fer.data.EMOTIONS's order, marked for the catalogue (a test keeps them equal).
EXPRESSIONS = (N_("Angry"), N_("Disgust"), N_("Fear"), N_("Happy"), N_("Sad"), N_("Surprise"), N_("Neutral"))


def expression(label: int | str) -> str:
    """An expression's name in the reader's language, from its label (0..6) or its English name."""
    return _(EXPRESSIONS[int(label)] if not isinstance(label, str) else label)


def expressions() -> list[str]:
    """The seven names in label order, in the reader's language: for axes, options and legends."""
    return [_(name) for name in EXPRESSIONS]


# ---------------------------------------------------------------------------------- numbers and dates


def babel_locale(language: str | None = None):
    from babel import Locale

    return Locale.parse(language or current_language(), sep="-")


def format_integer(number: int) -> str:
    """A count with the language's grouping: 4,087,323."""
    from babel.numbers import format_decimal

    return format_decimal(int(number), format="#,##0", locale=babel_locale())


def format_decimal(number: float, digits: int | None = None) -> str:
    """A number with the language's separators; `digits` fixes the decimals shown."""
    from babel.numbers import format_decimal as babel_format_decimal

    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return babel_format_decimal(number, format=pattern, locale=babel_locale())


def format_percent(fraction: float, digits: int = 0) -> str:
    """0.513 -> '51%' (or '51.3%' with digits=1), as the language writes percentages."""
    from babel.numbers import format_percent as babel_format_percent

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return babel_format_percent(fraction, format=pattern, locale=babel_locale())


def format_list(items: Iterable[str]) -> str:
    """'a, b and c' as the language lists things (a、b 和 c)."""
    from babel.lists import format_list as babel_format_list

    return babel_format_list(list(items), locale=babel_locale())


def format_datetime(moment: datetime.datetime | str, width: str = "medium") -> str:
    """A date and time as the language writes them; an ISO 8601 string is read first (UTC when naive)."""
    from babel.dates import format_datetime as babel_format_datetime

    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return babel_format_datetime(moment, width, tzinfo=moment.tzinfo, locale=babel_locale())


# ---------------------------------------------------------------------------------- the webcam page


def webcam_messages(language: str, sources: tuple[str, ...] = WEBCAM_SOURCES) -> dict[str, str]:
    """{English: translation} for every translated, non-fuzzy message the webcam page's files use."""
    from babel.messages.pofile import read_po

    po_path = catalogue_path(language)
    if language == SOURCE_LANGUAGE or not po_path.exists():
        return {}
    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    messages = {}
    for message in catalogue:
        if not message.id or message.fuzzy or not isinstance(message.id, str) or not message.string:
            continue
        if any(path.startswith(sources) for path, _line in message.locations):
            messages[message.id] = message.string
    return dict(sorted(messages.items()))


def write_webcam_catalogues(page_folder: str | Path) -> list[Path]:
    """`<page_folder>/i18n/<language>.json` for every language but English; the page reads the one it needs."""
    folder = Path(page_folder) / "i18n"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = folder / f"{language}.json"
        document = {"language": language, "messages": webcam_messages(language)}
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
