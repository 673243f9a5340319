"""Stage 1: files to plain data, every value remembering its line.

Input may come from a stranger's pull request, so YAML is composed with libyaml's safe
loader into nodes and converted here by hand: only YAML's plain types are accepted, no tag
is ever constructed (nothing from input runs), anchors and aliases are refused before they
can expand, and duplicate keys are errors instead of silent overwrites.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deckgen.errors import Problem

MAX_FILE_BYTES = 256 * 1024
MAX_SCENARIO_FILES = 50_000
DECK_FILE = "deck.yaml"
RETIRED_FILE = "retired.yaml"

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # ten times faster than the pure-Python one
_constructor = yaml.constructor.SafeConstructor()

# Anki joins a note's fields with \x1f: one in any text makes it refuse the whole package.
# Every other control character is refused with it: none belongs in a card.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufff9-\ufffb]")

_T = "tag:yaml.org,2002:"
_SCALARS = {
    _T + "str": lambda node: node.value,
    _T + "int": _constructor.construct_yaml_int,
    _T + "float": _constructor.construct_yaml_float,
    _T + "bool": _constructor.construct_yaml_bool,
    _T + "null": lambda node: None,
    # Dates stay text: the model checks their form, and text is what the schema describes.
    _T + "timestamp": lambda node: node.value,
}

Path_ = tuple  # a location inside a document: keys and list indices


@dataclass(frozen=True)
class Document:
    """One YAML file as plain data, with the line (1-based) of every value and key."""

    path: Path
    shown: str  # the path as the user sees it in messages
    data: Any
    lines: dict = field(default_factory=dict, compare=False, repr=False)
    key_lines: dict = field(default_factory=dict, compare=False, repr=False)
    raw: bytes = field(default=b"", compare=False, repr=False)

    def line(self, where: Path_ = ()) -> int | None:
        """The line of the value at ``where``, or of its nearest enclosing value."""
        where = tuple(where)
        while where:
            if where in self.lines:
                return self.lines[where]
            where = where[:-1]
        return self.lines.get(())

    def key_line(self, where: Path_) -> int | None:
        return self.key_lines.get(tuple(where)) or self.line(where)


class _Refused(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def parse_document(path: Path, raw: bytes, shown: str) -> tuple[Document | None, list[Problem]]:
    """Parse one file's bytes. Returns the document, or None and the problems."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [
            Problem(
                shown,
                None,
                f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,} (256 KiB): split it or shorten it",
            )
        ]
    if b"\x00" in raw:
        return None, [Problem(shown, None, "file is binary, not YAML text: scenario files are UTF-8 text")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(shown, line, "file is not UTF-8: save it as UTF-8")]
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return None, [Problem(shown, None, "file is empty: it should hold one mapping (see `deckgen new`)")]
    if ("&" in text or "*" in text) and (refusal := _find_anchor(text)):
        return None, [Problem(shown, refusal.line, refusal.message)]
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(shown, text, exc)]
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml always marks its errors
        return None, [Problem(shown, None, f"YAML error: {exc}")]
    if node is None:
        return None, [Problem(shown, None, "file is empty: it should hold one mapping (see `deckgen new`)")]
    lines: dict = {}
    key_lines: dict = {}
    try:
        data = _convert(node, (), lines, key_lines, set())
    except _Refused as exc:
        return None, [Problem(shown, exc.line, exc.message)]
    if not isinstance(data, dict):
        return None, [Problem(shown, None, f"file holds {_kind(data)}, not a mapping of keys to values")]
    return Document(path, shown, data, lines, key_lines, raw), []


def _find_anchor(text: str) -> _Refused | None:
    """Anchors and aliases serve no purpose here and are the way to an alias bomb."""
    try:
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            anchor = getattr(event, "anchor", None)
            if isinstance(event, yaml.AliasEvent):
                return _Refused(line, f"YAML alias *{anchor} is not allowed: write the value out")
            if anchor:
                return _Refused(line, f"YAML anchor &{anchor} is not allowed: write the value out")
    except yaml.YAMLError:
        return None  # compose reports the syntax error with its line
    return None


def _convert(node, where, lines, key_lines, seen) -> Any:
    if id(node) in seen:  # an alias that slipped past the event scan
        raise _Refused(node.start_mark.line + 1, "YAML aliases are not allowed: write the value out")
    seen.add(id(node))
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        make = _SCALARS.get(node.tag)
        if make is None:
            raise _Refused(
                node.start_mark.line + 1,
                f"YAML tag {node.tag.replace(_T, '!!')} is not allowed: only plain text, numbers, true/false, lists and mappings",
            )
        if _CONTROL.search(node.value):
            raise _Refused(node.start_mark.line + 1, _control_message(where, node.value))
        try:
            return make(node)
        except (ValueError, yaml.YAMLError) as exc:
            raise _Refused(node.start_mark.line + 1, f"cannot read {node.value!r}: {exc}") from None
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _T + "seq":
            raise _Refused(node.start_mark.line + 1, f"YAML tag {node.tag.replace(_T, '!!')} is not allowed here")
        return [_convert(item, where + (i,), lines, key_lines, seen) for i, item in enumerate(node.value)]
    if node.tag != _T + "map":
        raise _Refused(node.start_mark.line + 1, f"YAML tag {node.tag.replace(_T, '!!')} is not allowed here")
    out: dict = {}
    for key_node, value_node in node.value:
        if key_node.tag == _T + "merge":
            raise _Refused(key_node.start_mark.line + 1, "YAML merge keys (<<) are not allowed: write the keys out")
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Refused(key_node.start_mark.line + 1, "a key must be plain text")
        if _CONTROL.search(key_node.value):
            raise _Refused(
                key_node.start_mark.line + 1, _control_message(where, key_node.value).replace("holds", "a key holds", 1)
            )
        key = key_node.value if key_node.tag == _T + "str" else _convert(key_node, where, {}, {}, set())
        if not isinstance(key, str):
            key = str(key).lower() if isinstance(key, bool) else str(key)
        if key in out:
            raise _Refused(
                key_node.start_mark.line + 1,
                f"duplicate key {key!r} (first at line {key_lines[where + (key,)]}): keep one",
            )
        key_lines[where + (key,)] = key_node.start_mark.line + 1
        out[key] = _convert(value_node, where + (key,), lines, key_lines, seen)
    return out


def _control_message(where: tuple, text: str) -> str:
    found = _CONTROL.search(text)
    assert found is not None
    code = ord(found.group())
    written = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    name = "Anki's field separator, " if code == 0x1F else ""
    label = "".join(f"[{p + 1}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(where))
    return (
        f"{label + ': ' if label else ''}holds the control character U+{code:04X} ({name}written {written} in "
        "YAML), which no card can show: remove it"
    )


def _syntax_problem(shown: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    src = text.splitlines()
    here = src[line - 1] if line and line <= len(src) else ""
    prev = src[line - 2] if line and 2 <= line <= len(src) + 1 else ""
    what = (exc.problem or str(exc)).strip()
    hint = ""
    if "\t" in here or "'\\t'" in what:
        hint = "tabs cannot indent YAML: use spaces"
    elif "expected a single document" in what or (exc.context or "").startswith("expected a single document"):
        hint = "the file holds several YAML documents (---): keep one"
    else:
        for candidate in (here, prev):
            body = candidate.strip()
            if body.startswith("- [[") or body.split(":", 1)[-1].strip().startswith("[["):
                hint = "a text that starts with [[ must be quoted: '[[phrase]] rest of the bullet'"
                break
            if body.startswith("- ") and ": " in body[2:] and not body[2:].lstrip().startswith(("'", '"')):
                hint = "a bullet that holds ': ' must be quoted: '- key: value' becomes - 'key: value'"
                break
    if "found unknown escape character" in what:
        hint = "inside double quotes a backslash starts an escape: use single quotes ('a \\| b')"
    message = f"YAML syntax error: {what}"
    if hint:
        message += f"; {hint}"
    return Problem(shown, line, message)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (_dt.date,)):
        return "a date"
    if isinstance(value, str):
        return "plain text"
    return type(value).__name__


kind_of = _kind


@dataclass(frozen=True)
class SourceFile:
    """A scenario file found in the tree; read and parsed one at a time, so memory stays flat."""

    path: Path
    shown: str


@dataclass(frozen=True)
class SourceTree:
    """A deck source tree: deck.yaml and retired.yaml parsed, scenario files listed."""

    root: Path
    deck: Document | None
    files: tuple[SourceFile, ...]
    problems: tuple[Problem, ...]
    retired: Document | None = None


def read_tree(root: Path, shown_root: str | None = None) -> SourceTree:
    """Parse ``deck.yaml`` (and ``retired.yaml``) and list ``<category>/<id>.yaml`` in sorted order."""
    root = Path(root)
    shown_root = shown_root if shown_root is not None else str(root)
    problems: list[Problem] = []
    if not root.is_dir():
        return SourceTree(
            root,
            None,
            (),
            (Problem(shown_root, None, "scenarios folder not found: pass --scenarios DIR or run in the repo root"),),
        )

    def show(p: Path) -> str:
        return os.path.join(shown_root, os.path.relpath(p, root))

    deck_doc = None
    deck_path = root / DECK_FILE
    if deck_path.is_symlink():
        problems.append(
            Problem(show(deck_path), None, "is a link: deck.yaml must be a plain file in the scenarios folder")
        )
    elif not deck_path.is_file():
        problems.append(
            Problem(show(deck_path), None, "deck.yaml is missing: the deck's name, version and taxonomy live there")
        )
    else:
        deck_doc, found = read_one(deck_path, show(deck_path))
        problems += found

    retired_doc = None
    retired_path = root / RETIRED_FILE
    if retired_path.is_symlink():
        problems.append(
            Problem(show(retired_path), None, "is a link: retired.yaml must be a plain file in the scenarios folder")
        )
    elif retired_path.is_file():
        retired_doc, found = read_one(retired_path, show(retired_path))
        problems += found

    files: list[SourceFile] = []
    count = 0
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name == DECK_FILE:
            continue
        if entry.is_file():
            if entry.name != RETIRED_FILE:
                problems.append(
                    Problem(show(entry), None, "unexpected file: scenarios go in <category-slug>/<id>.yaml")
                )
            continue
        if entry.is_symlink():
            problems.append(Problem(show(entry), None, "symlinked folders are not followed: move the files here"))
            continue
        if not entry.is_dir():  # a FIFO, a socket, a device: never opened
            problems.append(
                Problem(show(entry), None, "not a file or a folder: scenarios go in <category-slug>/<id>.yaml")
            )
            continue
        try:
            children = sorted(entry.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            problems.append(Problem(show(entry), None, f"cannot read the folder: {exc.strerror}"))
            continue
        for path in children:
            if path.name.startswith("."):
                continue
            if path.is_symlink() or not path.is_file():
                problems.append(
                    Problem(
                        show(path), None, "not a regular file: scenarios are plain .yaml files (no links, no folders)"
                    )
                )
                continue
            if path.suffix != ".yaml":
                hint = (
                    f": rename it to {path.stem}.yaml"
                    if path.suffix in (".yml", ".YAML", ".Yaml")
                    else ": only .yaml files belong here"
                )
                problems.append(Problem(show(path), None, f"not a scenario file{hint}"))
                continue
            count += 1
            if count > MAX_SCENARIO_FILES:
                problems.append(
                    Problem(shown_root, None, f"more than {MAX_SCENARIO_FILES:,} scenario files: split the deck")
                )
                return SourceTree(root, deck_doc, tuple(files), tuple(problems), retired_doc)
            files.append(SourceFile(path, show(path)))
    return SourceTree(root, deck_doc, tuple(files), tuple(problems), retired_doc)


def read_bytes(path: Path, shown: str) -> tuple[bytes | None, list[Problem]]:
    """A file's bytes, refusing oversized files before reading them."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Problem(
                    shown,
                    None,
                    f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (256 KiB): split it or shorten it",
                )
            ]
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Problem(shown, None, f"cannot read the file: {exc.strerror}")]


def read_one(path: Path, shown: str) -> tuple[Document | None, list[Problem]]:
    raw, problems = read_bytes(path, shown)
    if raw is None:
        return None, problems
    return parse_document(path, raw, shown)
