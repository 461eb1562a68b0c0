"""The reader's language: a shared link first (?lang=zh-TW), then the sidebar switch, then the browser's.

`page_language()` runs at the top of every page run (streamlit_app.py, and each translated page
for when it runs alone): it decides the language and hands it to `fer.i18n`, so every `_()` on the
page and in fer/ answers in it. A choice made through a link or the switch is kept in the session,
so it holds on every page, and goes back into the address bar, so copying the link shares it.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from fer import i18n
from fer.i18n import _

LANGUAGE_KEY = "language"  # the reader's explicit choice, for the whole session
SWITCH_KEY = "language_switch"  # the sidebar widget
URL_SEEN_KEY = "language_url_seen"  # the ?lang= this session last followed, to notice a new link
QUERY_PARAMETER = "lang"
# Written in both languages, so a reader who landed in the wrong one still finds it.
SWITCH_LABEL = "Language · 語言"
# Chart text: a CJK font first (Debian's fonts-noto-cjk, macOS, Windows), then Streamlit's own.
CHART_FONT = '"Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", "Source Sans Pro", sans-serif'


def browser_language() -> str | None:
    """The browser's language (navigator.language) when the course speaks it."""
    return i18n.supported_language(getattr(st.context, "locale", None))


def page_language() -> str:
    """Decide this run's language, give it to fer.i18n, and return it ('en' or 'zh-TW')."""
    linked = st.query_params.get(QUERY_PARAMETER)
    unreadable_link = None
    if linked is not None and linked != st.session_state.get(URL_SEEN_KEY):
        st.session_state[URL_SEEN_KEY] = linked
        chosen = i18n.supported_language(linked)
        if chosen is None:
            unreadable_link = linked
        else:
            st.session_state[LANGUAGE_KEY] = chosen
    language = st.session_state.get(LANGUAGE_KEY) or browser_language() or i18n.SOURCE_LANGUAGE
    i18n.set_language(language)
    if LANGUAGE_KEY in st.session_state and st.query_params.get(QUERY_PARAMETER) != language:
        st.query_params[QUERY_PARAMETER] = language
        st.session_state[URL_SEEN_KEY] = language
    if unreadable_link is not None:
        sentence = _("The link's lang={value} is not a language of this course ({languages}): the page is in {name}.")
        st.warning(sentence.format(
            value=repr(unreadable_link[:20]), languages=", ".join(i18n.LANGUAGES), name=i18n.LANGUAGES[language]
        ))
    return language


def _switched() -> None:
    language = st.session_state[SWITCH_KEY]
    st.session_state[LANGUAGE_KEY] = language
    st.session_state[URL_SEEN_KEY] = language
    st.query_params[QUERY_PARAMETER] = language


def language_switch() -> None:
    """The sidebar's language selector (call it inside `with st.sidebar:`, after `page_language()`)."""
    st.session_state[SWITCH_KEY] = i18n.current_language()
    st.selectbox(
        SWITCH_LABEL, list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key=SWITCH_KEY, on_change=_switched
    )


def chart(spec: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """An Altair chart whose titles, axes and legends can draw Chinese (a CJK font family first)."""
    return spec.configure(font=CHART_FONT)
