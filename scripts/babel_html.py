"""A `pybabel extract` method for the webcam page's HTML: the text of every element marked `data-i18n`.

    <h1 data-i18n>Your model on your face</h1>

The English text inside the element is the message id; webcam.js replaces it with the
translation at load time (whitespace inside is collapsed to single spaces on both sides).
babel.cfg names this function in its [extractors] section; the Makefile puts scripts/ on PYTHONPATH.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def collapse(text: str) -> str:
    return " ".join(text.split())


class _MarkedText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._open: list[tuple[str, int, list[str] | None]] = []  # (tag, line, text parts when marked)

    def handle_starttag(self, tag, attrs):
        if tag in VOID_ELEMENTS:
            return
        marked = any(name == "data-i18n" for name, _value in attrs)
        self._open.append((tag, self.getpos()[0], [] if marked else None))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, line, parts = self._open.pop()
            if parts is not None and collapse("".join(parts)):
                self.found.append((line, collapse("".join(parts))))
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _tag, _line, parts in self._open:
            if parts is not None:
                parts.append(data)


def extract(fileobj, keywords, comment_tags, options):
    """Babel's extraction interface: (line, function name, message, comments) per marked element."""
    parser = _MarkedText()
    parser.feed(fileobj.read().decode(options.get("encoding", "utf-8")))
    parser.close()
    for line, message in sorted(parser.found):
        yield line, None, message, []
