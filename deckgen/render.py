"""Stage 3: text to card HTML. Pure string functions, no I/O.

Markdown is rendered once per field with one reused ``markdown.Markdown`` (a new one per
field doubles the time), raw HTML is cleaned by nh3's allow-list, and everything that
reaches a field is escaped so that Anki's own syntax (``{{c1::``, ``::``, ``[sound:``)
in the input shows as written instead of making cards or playing files.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

import markdown
import nh3
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# Placeholders for cloze markers while Markdown runs; input never holds them (stripped).
_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"
_PH_RE = re.compile(_PH_OPEN + r"(\d+)" + _PH_CLOSE)

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "mark",
    "small",
    "code",
    "pre",
    "kbd",
    "samp",
    "var",
    "sub",
    "sup",
    "blockquote",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "span",
    "div",
    "abbr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
# Classes only for highlighted code: a `cloze` or `wte-s` class written in a scenario would
# make a section show on every front, or blind `deckgen diff`'s section hashes.
ALLOWED_CLASSES = {
    "span": {c for c in STANDARD_TYPES.values() if c},
    "div": {"highlight"},
}
URL_SCHEMES = {"http", "https", "mailto"}

CODE_CLASS = "highlight"

# A one-line text with none of these is plain text to Markdown too: skip the parser.
_MARKUP = re.compile(r"[*_`\[\]<>&\\!~|#]|^\s|\s$|^\d+[.)]\s|^[-+=>]")


class MarkerError(ValueError):
    """A ``[[...]]`` marker that cannot become a cloze."""


@dataclass(frozen=True)
class Marker:
    phrase: str
    hint: str | None


def _code_span_end(text: str, i: int) -> int:
    """Given a backtick run at ``i``, the index just past its closing run (or past the run)."""
    n = len(text)
    j = i
    while j < n and text[j] == "`":
        j += 1
    run = j - i
    k = j
    while True:
        k = text.find("`" * run, k)
        if k < 0:
            return j  # no closing run: the backticks are literal
        end = k + run
        if end < n and text[end] == "`":  # a longer run does not close this one
            while end < n and text[end] == "`":
                end += 1
            k = end
            continue
        return end


_SPECIAL = re.compile(r"`|\\.|\[\[|\]\]|\|", re.S)


def parse_markers(text: str) -> list[str | Marker]:
    """Split an answer bullet into plain runs and ``[[phrase|hint]]`` markers.

    ``[[`` inside a code span is literal (pandas ``df[['a']]``); inside a marker the first
    ``|`` not written as ``\\|`` starts the hint.
    """
    if "[[" not in text and "]]" not in text:
        return [text] if text else []
    out: list[str | Marker] = []
    buf: list[str] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _SPECIAL.search(text, pos)
        if m is None:
            buf.append(text[pos:])
            break
        buf.append(text[pos : m.start()])
        tok = m.group()
        if tok == "`":
            end = _code_span_end(text, m.start())
            buf.append(text[m.start() : end])
            pos = end
        elif tok == "[[":
            marker, pos = _read_marker(text, m.start())
            if any(buf):
                out.append("".join(buf))
            buf = []
            out.append(marker)
        elif tok == "]]":
            raise MarkerError("]] without an opening [[: add the [[ or write the brackets as \\]\\]")
        else:  # an escape or a lone |: plain text outside markers
            buf.append(tok)
            pos = m.end()
    if any(buf):
        out.append("".join(buf))
    return out


def _read_marker(text: str, start: int) -> tuple[Marker, int]:
    phrase: list[str] = []
    hint: list[str] | None = None
    pos, n = start + 2, len(text)
    while pos < n:
        part = phrase if hint is None else hint
        m = _SPECIAL.search(text, pos)
        if m is None:
            break
        part.append(text[pos : m.start()])
        tok = m.group()
        if tok == "`":
            end = _code_span_end(text, m.start())
            part.append(text[m.start() : end])
            pos = end
        elif tok == "\\|":
            part.append("|")
            pos = m.end()
        elif tok == "]]":
            body = "".join(phrase).strip()
            if not body:
                raise MarkerError("empty [[ ]] marker: put the key phrase inside it, or remove it")
            tip = "".join(hint).strip() if hint is not None else ""
            return Marker(body, tip or None), m.end()
        elif tok == "[[":
            raise MarkerError("a [[ marker inside another one: markers cannot nest")
        elif tok == "|" and hint is None:
            hint = []
            pos = m.end()
        else:
            part.append(tok)
            pos = m.end()
    raise MarkerError("unclosed [[ marker: close it with ]]")


_MATHJAX = re.compile(r"\\(?=[()\[\]])")


def escape_anki(fragment: str, in_cloze: bool = False) -> str:
    """Make HTML inert to Anki's field syntax without changing what the browser shows.

    Besides ``{{``, ``::`` and ``[sound:``, MathJax delimiters: Anki's cloze filter strips
    every tag between a backslash-paren pair (or backslash-bracket pair), even across bullets.
    """
    fragment = fragment.replace("{", "&#123;").replace("}", "&#125;")
    if "\\" in fragment:
        fragment = _MATHJAX.sub("&#92;", fragment)
    fragment = fragment.replace("[sound:", "&#91;sound:").replace("[anki:", "&#91;anki:")
    fragment = fragment.replace(":", "&#58;") if in_cloze else fragment.replace("::", "&#58;&#58;")
    return fragment


@lru_cache(maxsize=256)
def lexer_for(name: str):
    """Pygments lexers are costly to look up; a deck uses a handful of languages."""
    return get_lexer_by_name(name, stripall=False)


def known_lexer(name: str) -> bool:
    try:
        lexer_for(name)
    except ClassNotFound:
        return False
    return True


class Renderer:
    """Renders Markdown, code and cloze markup. One per process: it reuses its parser."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", "codehilite"],
            extension_configs={
                "codehilite": {"css_class": CODE_CLASS, "guess_lang": False},
                "tables": {"use_align_attribute": True},
            },
            output_format="html",
        )
        self._formatter = HtmlFormatter(cssclass=CODE_CLASS)

    # -- plain Markdown -------------------------------------------------------------

    def block(self, text: str) -> str:
        """Markdown (paragraphs, lists, code) to sanitised, Anki-inert HTML."""
        text = _strip_placeholders(text).strip()
        if not text:
            return ""
        if "\n" not in text and not _MARKUP.search(text):
            return "<p>" + escape_anki(html.escape(text, quote=False)) + "</p>"
        return escape_anki(self._html(text))

    def inline(self, text: str) -> str:
        """Markdown for one short item: like :meth:`block` without the wrapping <p>."""
        return self._inline(_strip_placeholders(text).strip())

    def _inline(self, text: str) -> str:
        if "\n" not in text and not _MARKUP.search(text):
            return escape_anki(html.escape(text, quote=False))
        return escape_anki(_unwrap_p(self._html(text)))

    def _html(self, text: str) -> str:
        self._md.reset()
        return nh3.clean(
            self._md.convert(text),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            allowed_classes=ALLOWED_CLASSES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer",
        )

    # -- cloze ------------------------------------------------------------------------

    def cloze_bullet(self, text: str, ordinal: int) -> str:
        """An answer bullet with its ``[[markers]]`` as cloze ``ordinal``; no marker hides it all."""
        text = _strip_placeholders(text).strip()
        parts = parse_markers(text)
        markers: list[Marker] = []
        pieces: list[str] = []
        for part in parts:
            if isinstance(part, Marker):
                pieces.append(f"{_PH_OPEN}{len(markers)}{_PH_CLOSE}")
                markers.append(part)
            else:
                pieces.append(part)
        if not markers:
            return cloze(self.inline(text), ordinal)
        shell = self._inline("".join(pieces).strip())
        rendered = [cloze(self._inline(m.phrase), ordinal, m.hint) for m in markers]
        return _PH_RE.sub(lambda m: rendered[int(m.group(1))], shell)

    def cloze_item(self, text: str, ordinal: int, hint: str | None = None) -> str:
        """A concept or typical scenario: hidden whole; markers are literal here."""
        return cloze(self.inline(text), ordinal, hint)

    def code(self, source: str, lang: str) -> str:
        return escape_anki(highlight(source, lexer_for(lang), self._formatter))


def cloze(inner_html: str, ordinal: int, hint: str | None = None) -> str:
    """``{{cN::...}}`` around HTML that is already Anki-inert outside clozes."""
    inner = inner_html.replace("::", "&#58;&#58;").replace(":", "&#58;")
    if hint:
        tip = escape_anki(html.escape(hint, quote=False), in_cloze=True)
        return f"{{{{c{ordinal}::{inner}::{tip}}}}}"
    return f"{{{{c{ordinal}::{inner}}}}}"


def _strip_placeholders(text: str) -> str:
    if _PH_OPEN in text or _PH_CLOSE in text:
        return text.replace(_PH_OPEN, "").replace(_PH_CLOSE, "")
    return text


def _unwrap_p(fragment: str) -> str:
    if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count("<p>") == 1:
        return fragment[3:-4]
    return fragment


def code_css(prefix: str, style: str) -> str:
    """Pygments token colours scoped under ``prefix`` (the note type carries them)."""
    rules = HtmlFormatter(style=style, cssclass=CODE_CLASS).get_style_defs(f"{prefix} .{CODE_CLASS}")
    keep = [ln for ln in rules.splitlines() if ln.startswith(prefix)]
    return "\n".join(keep)
