"""`deckgen lint`: the measurable part of the content standard, as advice with a line number.

`validate` says whether a file can become cards; `lint` says whether the cards are good
ones: bullets that fit a phone, markers that hide the point, concepts the answer uses,
communication with an ETA and a next update, code that parses, references, and advice
not copied between cards. Every finding is ``path:line: CODE message``; codes are stable
(the README lists them with a bad and a good example each). A finding is silenced on its
line by a YAML comment ``# lint: ignore DG101`` (several: ``DG101, DG204``), in a whole
file by ``# lint: ignore-file DG301``, and in the whole deck by ``lint.ignore`` in
``deck.yaml``. Lint runs on a valid tree only: validation problems come first.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pygments.token import Error

from deckgen import loader, model, notes, phone
from deckgen.errors import DeckgenError, Problem
from deckgen.loader import Document
from deckgen.model import SECTIONS, Scenario
from deckgen.render import Marker, Renderer, lexer_for, parse_markers


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str


RULES = {
    r.code: r
    for r in (
        Rule("DG101", "bullet-too-long", "an answer bullet takes more than two lines on a 360 px phone"),
        Rule("DG201", "marker-shown-on-front", "a marker hides a phrase the title or situation already shows"),
        Rule("DG202", "marker-filler", "a marker hides only stop words or filler"),
        Rule("DG203", "marker-whole-bullet", "a long bullet is hidden whole (no marker, or one that covers it)"),
        Rule("DG204", "marker-audience-or-time", "a marker hides an audience, a weekday or a clock time"),
        Rule("DG301", "concept-unused", "a concept the answer and `why` never use"),
        Rule("DG302", "covers-unused", "a `covers` phrase the scenario never exercises"),
        Rule("DG401", "no-next-update", "the communication gives no next-update time"),
        Rule("DG402", "no-eta", "the communication gives no ETA"),
        Rule("DG501", "code-does-not-parse", "a code sample (`code` or fenced) does not parse"),
        Rule("DG601", "no-references", "a scenario without `references`"),
        Rule("DG701", "near-duplicate-bullet", "an answer bullet nearly the same as one in another scenario"),
    )
}


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "code": self.code,
            "rule": RULES[self.code].name,
            "message": self.message,
        }


@dataclass(frozen=True)
class Settings:
    bullet_max_lines: int = 2
    column_px: float = phone.COLUMN_PX
    duplicate_similarity: float = 0.6
    ignore: tuple[str, ...] = ()  # codes or prefixes, from deck.yaml

    @classmethod
    def from_deck(cls, doc: Document | None) -> Settings:
        data = (doc.data.get("lint") if doc is not None else None) or {}
        return cls(
            bullet_max_lines=data.get("bullet_max_lines", cls.bullet_max_lines),
            column_px=float(data.get("column_px", cls.column_px)),
            duplicate_similarity=float(data.get("duplicate_similarity", cls.duplicate_similarity)),
            ignore=tuple(data.get("ignore") or ()),
        )


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    scenarios: int
    suppressed: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for f in self.findings:
            out[f.code] += 1
        return dict(sorted(out.items()))


def parse_codes(text: str | None, option: str) -> tuple[str, ...]:
    """``DG101,DG2`` to codes or prefixes; an unknown one is a usage error naming the option."""
    if not text:
        return ()
    out = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        part = part.upper()
        if part != "ALL" and not any(code.startswith(part) for code in RULES):
            raise ValueError(f"{option}: `{part}` is no rule code or prefix (codes: {', '.join(RULES)})")
        out.append(part)
    return tuple(out)


def _matches(code: str, patterns: tuple[str, ...]) -> bool:
    return any(p == "ALL" or code.startswith(p) for p in patterns)


# -- words --------------------------------------------------------------------------------

STOP = frozenset(
    "a an the and or but nor of to in on at by for from with without into onto over under as is are was "
    "were be been being it its it's this that these those there here then than so if else when while do "
    "does did done not no yes can could will would should may might must shall we you they he she i me my "
    "our your their them us what which who whom whose how why where all any each every some such only own "
    "same very just also too more most less least much many few per via about after before again once up "
    "down out off one".split()
)
FILLER = frozenset(
    "now first then immediately quickly carefully safely properly clearly explicitly fully directly "
    "idempotently always never really simply actually basically right instead still already soon early "
    "later asap today".split()
)
AUDIENCE = frozenset(
    "team teams lead leads owner owners manager managers stakeholder stakeholders director directors vp "
    "vps cfo ceo cto cio cpo coo ciso dpo head heads analyst analysts finance legal marketing sales "
    "support ops operations sre sres dba dbas executive executives exec execs board controller leadership "
    "channel fp&a product engineers engineer partner partners vendor vendors on-call oncall".split()
)
UPDATE_WORDS = frozenset("next update updates eta check check-in call standup stand-up sync review status".split())
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
TIME = re.compile(
    rf"\b(?:\d{{1,2}}:\d{{2}}(?:\s?[ap]m)?|\d{{1,2}}\s?[ap]m|noon|midnight|eod|end of (?:the )?(?:day|week)"
    rf"|tomorrow|tonight|today|this (?:morning|afternoon|evening|week)|{_WEEKDAY}|{_MONTH} \d{{1,2}}"
    rf"|\d{{1,2}} {_MONTH}|\d{{4}}-\d{{2}}-\d{{2}}|(?:with)?in (?:\d+|an?|one|two|half an) "
    rf"(?:min|mins|minutes|h|hr|hrs|hours?|days?|weeks?)|every \d+ ?(?:min|mins|minutes|h|hours?)|hourly|daily)\b",
    re.I,
)
_TIME_WORD = re.compile(
    rf"^(?:\d{{1,2}}:\d{{2}}|\d{{1,2}}[ap]m|[ap]m|noon|midnight|eod|tomorrow|tonight|today|"
    rf"{_WEEKDAY}|{_MONTH})$",
    re.I,
)
UPDATE = re.compile(
    r"\b(?:next|updates?|updated|status|summary|report|note|post|confirm|check-in|check|review|call|"
    r"send|share|progress|daily|hourly|every)\b",
    re.I,
)
ETA = re.compile(
    r"\bETAs?\b|\b(?:by|until|before|back|ready|fixed|restored|resolved|lands?|done|completed?|finish(?:es|ed)?"
    r"|ships?|current|correct(?:ed)?|live|stops?|ends?)\b[^.;]{0,40}?" + TIME.pattern,
    re.I,
)
_TOKEN = re.compile(r"[a-z0-9&][a-z0-9._%/:+&'-]*[a-z0-9%]|[a-z0-9]")


def tokens(text: str) -> list[str]:
    """Lower-case words of a visible text; identifiers (``max.poll.interval.ms``, ``11:40``) stay whole."""
    return _TOKEN.findall(text.lower().replace("`", " ").replace("’", "'"))


def content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOP and w not in FILLER]


def stem(word: str) -> str:
    """Crude and enough: 'rebalancing', 'rebalances' and 'rebalance' meet at 'rebal'."""
    word = word.strip("'")
    return word[:5] if word.isalpha() else word


# -- rules over one scenario ----------------------------------------------------------------


@dataclass
class _File:
    scenario: Scenario
    doc: Document
    findings: list[Finding] = field(default_factory=list)

    def add(self, where: tuple, code: str, message: str, line: int | None = None) -> None:
        self.findings.append(Finding(self.doc.shown, line or self.doc.line(where) or 1, code, message))


@functools.lru_cache(maxsize=1 << 14)
def _visible(renderer: Renderer, text: str) -> str:
    """A bullet's or phrase's visible text; asked for by several checks, rendered once."""
    return phone.visible_text(renderer.inline(text))


@functools.lru_cache(maxsize=1 << 10)
def _visible_block(renderer: Renderer, text: str) -> str:
    return phone.visible_text(renderer.block(text))


def _check_bullets(f: _File, renderer: Renderer, settings: Settings, front: str) -> None:
    s = f.scenario
    front_tokens = tokens(front)
    front_words = set(front_tokens)
    front_stems = {stem(x) for x in front_words}
    front_norm = " " + " ".join(front_tokens) + " "
    for section in SECTIONS:
        n = notes.SECTION_CLOZE[section]
        for i, text in enumerate(s.answer(section)):
            where = ("answer", section, i)
            label = model.where_label(where)
            rendered = renderer.cloze_bullet(text, n)
            visible = phone.visible_text(rendered)
            lines = phone.lines(rendered, settings.column_px)
            if lines > settings.bullet_max_lines:
                f.add(
                    where,
                    "DG101",
                    f"{label}: takes {lines} lines on a 360 px phone ({len(visible)} characters; "
                    f"{settings.bullet_max_lines} lines hold about {_chars_for(settings)}): keep the action and its "
                    "key phrase, move the detail to `why` or `pitfalls`",
                )
            markers = [p for p in parse_markers(text) if isinstance(p, Marker)]
            phrases = [_visible(renderer, m.phrase) for m in markers]
            hidden = sum(len(p) for p in phrases)
            if len(visible) > 40 and (not markers or hidden >= 0.85 * len(visible)):
                what = (
                    "has no marker, so the card hides all of it"
                    if not markers
                    else "has a marker over nearly all of it"
                )
                f.add(
                    where,
                    "DG203",
                    f"{label}: {what}: mark only the key phrase (the mechanism, setting, number "
                    "or decision) with [[...]]",
                )
            for phrase in phrases:
                _check_marker(f, where, label, phrase, front_words, front_stems, front_norm)


def _chars_for(settings: Settings) -> int:
    return int(settings.bullet_max_lines * settings.column_px / 8.9)  # an average character at 17 px


def _check_marker(
    f: _File, where: tuple, label: str, phrase: str, front_words: set, front_stems: set, front_norm: str
) -> None:
    words = tokens(phrase)
    if not words:
        return
    meaning = content(words)
    shown = f"`[[{phrase}]]`"
    if not meaning:
        f.add(
            where,
            "DG202",
            f"{label}: {shown} hides only filler or stop words: hide the mechanism, setting, "
            "number or decision instead",
        )
        return
    if f" {' '.join(words)} " in front_norm or (
        len(meaning) >= 3 and all(w in front_words or stem(w) in front_stems for w in meaning)
    ):
        f.add(
            where,
            "DG201",
            f"{label}: {shown} is already on the front (title or situation), so the card asks "
            "nothing: hide what the responder must work out",
        )
        return
    if meaning[-1] in AUDIENCE and len(meaning) <= 4 and not any(ch.isdigit() for ch in phrase):
        f.add(
            where,
            "DG204",
            f"{label}: {shown} hides an audience: name who is told in plain text and hide what "
            "they are told (the impact, the decision)",
        )
        return
    rest = [w for w in meaning if not _TIME_WORD.match(w) and w not in UPDATE_WORDS and not w.isdigit()]
    if TIME.search(phrase) and len(rest) <= 1:
        f.add(
            where,
            "DG204",
            f"{label}: {shown} hides a day or a clock time, which nobody can recall: show the "
            "time, hide the commitment or the mechanism",
        )


def _used(phrase: str, stems: set[str], share: float = 0.5) -> bool:
    """Whether at least ``share`` of a phrase's words (a parenthesis aside) occur in ``stems``."""
    inside = " ".join(re.findall(r"\(([^)]*)\)", phrase))
    for words in (content(tokens(re.sub(r"\([^)]*\)", " ", phrase))), content(tokens(inside))):
        if words and sum(1 for w in words if stem(w) in stems) >= max(1, math.ceil(share * len(words))):
            return True
    return not content(tokens(phrase))


def _check_concepts(f: _File, renderer: Renderer) -> None:
    s = f.scenario
    answer = " ".join(_visible(renderer, b) for sec in SECTIONS for b in s.answer(sec))
    body = answer + " " + _visible_block(renderer, s.why)
    stems = {stem(w) for w in tokens(body)}
    for i, concept in enumerate(s.concepts):
        if not _used(concept, stems):
            f.add(
                ("concepts", i),
                "DG301",
                f"concepts[{i + 1}]: `{concept}` is never used by the answer or `why`: "
                "use it where it matters, or list the concept the answer does use",
            )
    everything = stems | {stem(w) for w in tokens(_visible_block(renderer, s.situation))}
    for i, phrase in enumerate(s.covers):
        if not _used(phrase, everything, share=0.0):
            f.add(
                ("covers", i),
                "DG302",
                f"covers[{i + 1}]: `{phrase}` is not exercised by the situation, answer "
                "or `why`: remove it, or show it in the scenario",
            )


def _check_communication(f: _File, renderer: Renderer) -> None:
    s = f.scenario
    texts = [_visible(renderer, b) for b in s.communication]
    where = ("answer", "communication")
    if not any(UPDATE.search(t) and TIME.search(t) for t in texts):
        f.add(
            where,
            "DG401",
            "answer.communication: gives no next-update time: add one as a time "
            "('next update 15:00', 'next update Tuesday 10:00')",
            line=f.doc.key_line(where),
        )
    times = {m.group(0).lower() for t in texts for m in TIME.finditer(t)}
    if not any(ETA.search(t) for t in texts) and len(times) < 2:
        f.add(
            where,
            "DG402",
            "answer.communication: gives no ETA: say when it is fixed or the data is back "
            "('ETA 11:30', 'numbers back by 09:00')",
            line=f.doc.key_line(where),
        )


_FENCE = re.compile(r"^([ \t]*)(```|~~~)[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^\1\2[ \t]*$", re.M | re.S)


def code_problem(source: str, lang: str) -> tuple[int, str] | None:
    """(line in the source, what is wrong) if a sample does not parse; nothing from it runs."""
    name = lang.lower()
    try:
        if name in ("yaml", "yml"):
            for _ in yaml.compose_all(source, Loader=loader.SAFE_LOADER):
                pass
            return None
        if name == "json":
            json.loads(source)
            return None
        if name in ("python", "py", "python3"):
            ast.parse(source)
            return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return ((mark.line + 1) if mark else 1), f"YAML: {exc.problem or exc}"
    except yaml.YAMLError as exc:
        return 1, f"YAML: {exc}"
    except json.JSONDecodeError as exc:
        return exc.lineno, f"JSON: {exc.msg}"
    except SyntaxError as exc:
        return exc.lineno or 1, f"Python: {exc.msg}"
    except (RecursionError, MemoryError, ValueError):
        return 1, "does not parse (nested too deeply)"
    first = None
    for dialect in DIALECTS.get(name, (name,)):  # a sample is fine if one dialect reads it
        try:
            lexer = lexer_for(dialect)
        except Exception:  # unknown language: validate reports it for `code`; fenced blocks are free text
            return first
        found = _error_token(lexer, source)
        if found is None:
            return None
        first = first or found
    return first


# SQL is many languages; Pygments' plain SQL lexer refuses Postgres' $1 and BigQuery's backticks.
DIALECTS = {"sql": ("sql", "postgresql", "mysql", "googlesql", "tsql")}


def _error_token(lexer, source: str) -> tuple[int, str] | None:
    line = 1
    for ttype, value in lexer.get_tokens(source):
        if ttype in Error:
            return line, f"{lexer.name} cannot read {value.strip()[:20]!r}"
        line += value.count("\n")
    return None


def _block_start(doc: Document, where: tuple) -> tuple[int, bool]:
    """The line of a text value and whether it is a block scalar (its text starts a line below)."""
    line = doc.line(where) or 1
    raw = doc.raw.decode("utf-8-sig", "replace").splitlines()
    here = raw[line - 1] if 0 < line <= len(raw) else ""
    return line, bool(re.search(r":\s*[|>][-+0-9]*\s*(#.*)?$", here) or re.match(r"\s*-\s*[|>][-+0-9]*\s*$", here))


def _check_code(f: _File) -> None:
    s, doc = f.scenario, f.doc
    if s.code is not None:
        found = code_problem(s.code.source, s.code.lang)
        if found:
            start, block = _block_start(doc, ("code", "source"))
            line = start + found[0] if block else start
            f.add(
                ("code", "source"),
                "DG501",
                f"code.source: line {found[0]}: {found[1]}: fix the sample (a reader copies it)",
                line=line,
            )
    for where, text in model._markdown_fields(doc.data):
        for m in _FENCE.finditer(text):
            lang = m.group(3) or ""
            if not lang:
                continue
            found = code_problem(m.group(4), lang)
            if found:
                start, block = _block_start(doc, where)
                offset = text[: m.start(4)].count("\n") + found[0]
                f.add(
                    where,
                    "DG501",
                    f"{model.where_label(where)}: fenced {lang} block, line {found[0]}: {found[1]}: fix the sample",
                    line=start + offset if block else start,
                )


def _check_references(f: _File) -> None:
    if not f.scenario.references:
        f.add(
            (),
            "DG601",
            "no `references`: add 1-3 pages of the vendor's docs or source (https) that back the "
            "key claims, as read while writing",
            line=f.doc.line(("id",)),
        )


# -- rules over the deck --------------------------------------------------------------------


def _pairs(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


def _check_duplicates(files: list[_File], renderer: Renderer, settings: Settings) -> None:
    bullets = []  # (file, where, pairs)
    for f in files:
        for section in SECTIONS:
            for i, text in enumerate(f.scenario.answer(section)):
                words = [stem(w) for w in content(tokens(_visible(renderer, text)))]
                if len(words) >= 5:
                    bullets.append((f, ("answer", section, i), _pairs(words)))
    index: dict[tuple, list[int]] = defaultdict(list)
    for n, (_, _, pairs) in enumerate(bullets):
        for p in pairs:
            index[p].append(n)
    for n, (f, where, pairs) in enumerate(bullets):
        # Candidates are symmetric (both bullets share the index entry): score each pair once.
        candidates = {m for p in pairs if len(index[p]) <= 50 for m in index[p] if m > n}
        for m in sorted(candidates):
            other, other_where, other_pairs = bullets[m]
            if other is f:
                continue
            score = len(pairs & other_pairs) / len(pairs | other_pairs)
            if score >= settings.duplicate_similarity:
                later, lw, earlier, ew = (f, where, other, other_where)
                if (other.doc.shown, other.doc.line(other_where)) > (f.doc.shown, f.doc.line(where)):
                    later, lw, earlier, ew = other, other_where, f, where
                later.add(
                    lw,
                    "DG701",
                    f"{model.where_label(lw)}: nearly the same as {earlier.doc.shown}:{earlier.doc.line(ew)} "
                    f"({model.where_label(ew)}): say what is specific to this incident, or keep the advice in one card",
                )


# -- running ----------------------------------------------------------------------------------

_IGNORE = re.compile(r"#\s*lint:\s*ignore\s+([A-Z0-9, ]+)", re.I)
_IGNORE_FILE = re.compile(r"^\s*#\s*lint:\s*ignore-file\s+([A-Z0-9, ]+)", re.I | re.M)


def _suppressed(finding: Finding, raw_lines: list[str], whole_file: tuple[str, ...]) -> bool:
    if _matches(finding.code, whole_file):
        return True
    here = raw_lines[finding.line - 1] if 0 < finding.line <= len(raw_lines) else ""
    m = _IGNORE.search(here)
    if m is None:
        return False
    return _matches(finding.code, tuple(c.strip().upper() for c in m.group(1).split(",") if c.strip()))


def lint(
    scenarios_dir: Path | str = "scenarios",
    media_dir: Path | str = "media",
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    paths: tuple[Path | str, ...] = (),
) -> Report:
    """Lint a valid tree (raise :class:`DeckgenError` with its problems otherwise).

    ``select``/``ignore`` take codes or prefixes; ``paths`` keeps only findings in those files
    (every file is still read: DG701 compares the whole deck).
    """
    tree = loader.read_tree(Path(scenarios_dir))
    project, problems = model.validate_tree(tree, Path(media_dir))
    if problems or project is None:
        raise DeckgenError(problems or [Problem(str(scenarios_dir), None, "no deck could be read")])
    settings = Settings.from_deck(tree.deck)
    renderer = Renderer()
    by_source = {s.source: s for s in project.scenarios}
    files: list[_File] = []
    for source in tree.files:
        doc, _ = loader.read_one(source.path, source.shown)
        if doc is not None and source.shown in by_source:
            files.append(_File(by_source[source.shown], doc))
    for f in files:
        s = f.scenario
        captions = " ".join(c.alt for c in s.charts if c.side == "front")  # what a front chart says
        front = f"{s.title}\n{_visible_block(renderer, s.situation)}\n{captions}"
        _check_bullets(f, renderer, settings, front)
        _check_concepts(f, renderer)
        _check_communication(f, renderer)
        _check_code(f)
        _check_references(f)
    _check_duplicates(files, renderer, settings)

    wanted = {str(Path(p)) for p in paths}
    keep: list[Finding] = []
    suppressed = 0
    for f in files:
        if not f.findings or wanted and not _same_file(f.doc.shown, f.doc.path, wanted):
            continue  # every finding of a file names that file
        text = f.doc.raw.decode("utf-8-sig", "replace")
        raw_lines = text.splitlines()
        whole = tuple(
            c.strip().upper() for m in _IGNORE_FILE.finditer(text) for c in m.group(1).split(",") if c.strip()
        )
        for finding in f.findings:
            if select and not _matches(finding.code, select):
                continue
            if _matches(finding.code, ignore + settings.ignore):
                continue
            if _suppressed(finding, raw_lines, whole):
                suppressed += 1
                continue
            keep.append(finding)
    return Report(tuple(sorted(set(keep))), len(files), suppressed)


def _same_file(shown: str, path: Path, wanted: set[str]) -> bool:
    return shown in wanted or str(path) in wanted or any(Path(w).resolve() == path.resolve() for w in wanted)


# -- output -----------------------------------------------------------------------------------


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_line(path: str, line: int | None, message: str, level: str = "warning", title: str | None = None) -> str:
    """A GitHub Actions workflow command: an annotation on the pull request's diff."""
    props = [f"file={_gh_escape(path, True)}"]
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_gh_escape(title, True)}")
    return f"::{level} {','.join(props)}::{_gh_escape(message)}"


def format_report(report: Report, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(
            {
                "scenarios": report.scenarios,
                "counts": report.counts(),
                "suppressed": report.suppressed,
                "findings": [f.as_dict() for f in report.findings],
            },
            indent=1,
            ensure_ascii=False,
        )
    if fmt == "github":
        lines = [
            github_line(f.path, f.line, f"{f.message} ({RULES[f.code].name})", "warning", f.code)
            for f in report.findings
        ]
    else:
        lines = [str(f) for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines)


def summary(report: Report) -> str:
    quiet = f", {report.suppressed} silenced" if report.suppressed else ""
    where = f"{report.scenarios} scenario{'s' * (report.scenarios != 1)}"
    if not report.findings:
        return f"ok: no findings in {where}{quiet}"
    counts = ", ".join(f"{code} {n}" for code, n in report.counts().items())
    found = f"{len(report.findings)} finding{'s' * (len(report.findings) != 1)}"
    return f"{found} in {where} ({counts}){quiet}"
