"""The translation machinery: choosing a language, the catalogue being complete for the translated
pages, sentences per thread, numbers and dates per language, the webcam page's JSON, the CLI's LANG."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from fer import i18n
from tests.i18n_checks import untranslated_literals

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "locale" / "zh_TW" / "LC_MESSAGES" / "fer.po"
# Every page and every module: each sentence in them goes through _() and has a Chinese translation.
TRANSLATED_PAGES = (
    "streamlit_app.py",
    *sorted(str(path.relative_to(REPO)) for path in (REPO / "lessons").glob("*.py")),
)
TRANSLATED_SOURCES = TRANSLATED_PAGES + (
    *sorted(str(path.relative_to(REPO)) for path in (REPO / "fer").rglob("*.py")),
    "static/webcam/webcam.js",
    "static/webcam/index.html",
)
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle)


def singular(message_id) -> str:
    """A message's id; for a plural message (a tuple), its singular."""
    return message_id if isinstance(message_id, str) else message_id[0]


def extracted(path: str) -> list[tuple[str | None, str]]:
    """(context, message) for every message pybabel extract finds in one file, by babel.cfg's methods."""
    if path.endswith(".html"):
        sys.path.insert(0, str(REPO / "scripts"))
        from babel_html import extract as method
    else:
        method = "javascript" if path.endswith(".js") else "python"
    return [
        (context, singular(message)) for _line, message, _comments, context in extract_from_file(method, REPO / path)
    ]


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh-TW", "zh-TW"), ("zh_TW.UTF-8", "zh-TW"), ("zh-Hant-TW", "zh-TW"), ("zh-tw", "zh-TW"),
        ("zh", "zh-TW"), ("zh-HK", "zh-TW"), ("en", "en"), ("en-US", "en"), ("en_GB.UTF-8@euro", "en"),
        ("C", "en"), ("POSIX", "en"), ("fr-FR", None), ("", None), (None, None),
    ],
)
def test_a_language_tag_picks_a_language_of_the_course(tag, language):
    assert i18n.supported_language(tag) == language


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "zh_TW.UTF-8"}, "zh-TW"),
        ({"LANGUAGE": "fr:zh_TW:en", "LANG": "en_US.UTF-8"}, "zh-TW"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_TW.UTF-8"}, "en"),
        ({"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "C"}, "zh-TW"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_terminal_language_follows_gettext_order(environment, language):
    assert i18n.language_from_environment(environment) == language


def test_each_thread_keeps_its_own_language():
    message = "Shape arithmetic"
    seen = {}
    ready = threading.Barrier(2)

    def session(name: str, tag: str) -> None:
        i18n.set_language(tag)
        ready.wait()  # both threads have chosen before either reads
        seen[name] = i18n._(message)

    threads = [threading.Thread(target=session, args=(name, tag)) for name, tag in (("a", "zh-TW"), ("b", "en"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "形狀計算", "b": "Shape arithmetic"}
    assert i18n.current_language() == "en"  # this thread never chose


def test_the_language_block_restores_the_previous_language():
    with i18n.language("zh-TW"):
        assert i18n._("Parameters") == "參數"
        with i18n.language("en"):
            assert i18n._("Parameters") == "Parameters"
        assert i18n._("Parameters") == "參數"
    assert i18n._("Parameters") == "Parameters"


def test_fer_sentences_come_out_in_the_callers_language():
    from fer import shapes

    stack = [shapes.Conv2D(4, 9)]
    with i18n.language("zh-TW"):
        row = shapes.compute_table((8, 8, 1), stack)[-1]
    assert row.error.startswith("視窗（9 像素）比它要滑過的高度（8 像素）還大")
    in_english = shapes.compute_table((8, 8, 1), stack)[-1].error
    assert in_english.startswith("The window (9 pixels) is larger than the height")


def test_the_seven_expressions_are_in_the_catalogue_in_label_order():
    from fer.data import EMOTIONS

    assert i18n.EXPRESSIONS == EMOTIONS
    with i18n.language("zh-TW"):
        assert i18n.expressions() == ["生氣", "厭惡", "恐懼", "開心", "難過", "驚訝", "中性"]
        assert i18n.expression(3) == i18n.expression("Happy") == "開心"


def test_plural_forms_follow_the_language():
    singular, plural = "{count} face", "{count} faces"
    assert i18n.ngettext(singular, plural, 1) == singular and i18n.ngettext(singular, plural, 2) == plural
    with i18n.language("zh-TW"):  # Chinese has one form; an untranslated pair falls back to English
        assert i18n.translations("zh-TW").plural(5) == 0


def test_numbers_and_dates_are_written_as_each_language_writes_them():
    moment = datetime.datetime(2026, 11, 23, 14, 5, tzinfo=datetime.timezone.utc)
    assert i18n.format_percent(0.513) == "51%" and i18n.format_percent(0.5134, 1) == "51.3%"
    assert i18n.format_integer(4087323) == "4,087,323"
    assert i18n.format_datetime(moment) == "Nov 23, 2026, 2:05:00\u202fPM"  # CLDR: a narrow space before PM
    with i18n.language("zh-TW"):
        assert i18n.format_datetime(moment) == "2026年11月23日 下午2:05:00"
        assert i18n.format_datetime("2026-11-23T14:05:00+00:00") == "2026年11月23日 下午2:05:00"
        assert i18n.format_integer(4087323) == "4,087,323"
        assert i18n.format_decimal(0.5, 2) == "0.50"


def test_the_catalogue_is_complete_for_the_translated_files():
    """Every sentence of the translated files is in the catalogue, translated, not fuzzy, same placeholders."""
    entries = {(message.context, singular(message.id)): message for message in catalogue() if message.id}
    problems = []
    for path in TRANSLATED_SOURCES:
        for context, message_id in extracted(path):
            entry = entries.get((context, message_id))
            forms = [entry.string] if entry is not None and isinstance(entry.string, str) else list(
                entry.string if entry is not None else []
            )
            if entry is None:
                problems.append(f"{path}: not in the catalogue (run make translations): {message_id!r}")
            elif not forms or not all(forms):
                problems.append(f"{path}: no translation: {message_id!r}")
            elif entry.fuzzy:
                problems.append(f"{path}: fuzzy translation: {message_id!r}")
            elif any(sorted(set(PLACEHOLDER.findall(message_id))) != sorted(set(PLACEHOLDER.findall(form)))
                     for form in forms):
                problems.append(f"{path}: placeholders differ: {message_id!r} -> {entry.string!r}")
    assert problems == []


def test_the_catalogue_is_not_marked_fuzzy_and_compiles():
    """pybabel compile skips a catalogue whose header is fuzzy: the whole language would vanish."""
    entries = catalogue()
    assert not entries.fuzzy
    # pybabel compile's own checks (a '1 % of' reads as a %-placeholder and fails make): none may fail.
    assert [(message.id, [str(error) for error in errors]) for message, errors in entries.check()] == []
    assert i18n.translations("zh-TW").gettext("Shape arithmetic") == "形狀計算"


@pytest.mark.parametrize("page", [page for page in TRANSLATED_PAGES if page != "lessons/_language.py"])
def test_every_sentence_a_translated_page_hands_to_streamlit_goes_through_gettext(page):
    assert untranslated_literals(REPO / page) == []


def test_the_source_check_catches_an_english_literal(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('import streamlit as st\nst.caption(_("Fine"))\nleft.button("Draw it", key="x")\n')
    assert untranslated_literals(page) == ["page.py:3: 'Draw it'"]


def test_the_webcam_page_gets_its_sentences_as_json(tmp_path):
    written = i18n.write_webcam_catalogues(tmp_path)
    assert [path.name for path in written] == ["zh-TW.json"]
    document = json.loads(written[0].read_text(encoding="utf-8"))
    assert document["language"] == "zh-TW"
    webcam_ids = {
        message.id for message in catalogue()
        if message.id and any(path.startswith("static/webcam/") for path, _line in message.locations)
    }
    assert set(document["messages"]) == webcam_ids


def test_the_cli_answers_in_the_terminals_language(tmp_path):
    environment = {**os.environ, "LANG": "zh_TW.UTF-8", "LC_ALL": "", "LANGUAGE": "", "FER_MODELS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "fer", "export", "no-such-run", str(tmp_path / "bundle")],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith("錯誤："), result.stderr


def test_an_english_sentence_kept_by_a_worker_is_shown_in_the_readers_language():
    """A worker keeps what a library raised as English text (fer.data's error for a missing data set);
    a Chinese reader gets the catalogue's sentence with the same values, an unknown text stays as it is."""
    from fer import data
    from fer.events import shown

    with i18n.language("en"), pytest.raises(data.DataError) as raised:
        data.load_dataset("ghost-set")
    kept = str(raised.value)
    with i18n.language("zh-TW"):
        said = shown(kept)
        expected = i18n._("No data set called {name} in {folder}: import one with "
                          "`python -m fer data import PATH` or on the Your data page.").format(
            name=repr("ghost-set"), folder=data.data_dir())
        assert said == expected and "'ghost-set'" in said and said != kept
        assert shown("A sentence no catalogue holds.") == "A sentence no catalogue holds."
    with i18n.language("en"):
        assert shown(kept) == kept
