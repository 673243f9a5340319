"""Property tests: whatever text a peer writes, the card shows it as written, with five cards.

Hypothesis generates answer bullets full of braces, colons, brackets, pipes, HTML and
unicode; each example is built and imported with Anki's own backend. Examples are
bounded and derandomised so CI stays quick and repeatable.
"""

from __future__ import annotations

import html
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen import BuildOptions, build, load_project
from tests.conftest import import_apkg, new_collection, scenario, small_tree

# Characters with no Markdown or HTML meaning on one line, plus Anki's own syntax.
PLAIN = (
    st.lists(
        st.sampled_from(
            list("abcXYZ019 {}:|[]'\"/=.,;?%$@^~#") + ["é", "ß", "日本", "→", "😀", "::", "{{", "}}", "c1", "c9"]
        ),
        min_size=1,
        max_size=30,
    )
    .map("".join)
    .map(lambda s: re.sub(r"\s+", " ", s).strip())
    .filter(
        lambda s: (
            s
            and "[[" not in s
            and "]]" not in s
            and not s.endswith("\\")
            and not re.match(r"^[#=~\-+\d.]", s)
            and "[" not in s
            and "]" not in s
        )
    )
)
# Anything at all inside a code span: shown literally.
CODE = (
    st.lists(
        st.sampled_from(list("<>/&\"'=;:{}[]|*_\\ab1 ") + ["script", "[[", "]]", "{{c2::x}}", "<iframe>", "&amp;"]),
        min_size=1,
        max_size=30,
    )
    .map("".join)
    .map(lambda s: s.strip())
    .filter(lambda s: s and "`" not in s)
)

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _visible(fragment: str) -> str:
    fragment = re.sub(r"<style>.*?</style>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _fold(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _build_and_import(tmp_path, bullets: list[str]):
    text = scenario().replace(
        "    - Roll back the release\n",
        "".join(f"    - {json.dumps(b, ensure_ascii=False)}\n" for b in bullets),
    )
    root = small_tree(tmp_path, **{"scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": text})
    apkg = build(load_project(root / "scenarios", root / "media"), BuildOptions(out_dir=root / "build")).path
    col = new_collection(tmp_path / "anki")
    import_apkg(col, apkg)
    nid = col.find_notes('"Scenario ID:kafka-lag-after-deploy"')[0]
    return col, col.get_note(nid)


@SETTINGS
@given(plain=st.lists(PLAIN, min_size=1, max_size=3), code=CODE)
def test_text_shows_as_written_and_makes_exactly_five_cards(tmp_path_factory, plain, code):
    tmp_path = tmp_path_factory.mktemp("prop")
    bullets = plain + [f"Run `{code}` now"]
    col, note = _build_and_import(tmp_path, bullets)
    try:
        assert sorted(c.ord for c in note.cards()) == [0, 1, 2, 3, 4]
        c3 = next(c for c in note.cards() if c.ord == 2)
        back = _visible(c3.answer())
        for b in plain:
            assert _fold(b) in back
        assert f"Run {code} now" in back
        front = _visible(c3.question())
        assert "[...]" in front
        assert "<script" not in c3.answer().lower() and "<iframe" not in c3.answer().lower()
    finally:
        col.close()


@SETTINGS
@given(before=PLAIN, phrase=PLAIN, hint=PLAIN.filter(lambda s: "|" not in s), after=PLAIN)
def test_marker_hides_the_phrase_and_shows_the_hint(tmp_path_factory, before, phrase, hint, after):
    tmp_path = tmp_path_factory.mktemp("prop")
    written = phrase.replace("|", "\\|")
    bullet = f"{before} [[{written}|{hint}]] {after}"
    col, note = _build_and_import(tmp_path, [bullet])
    try:
        assert sorted(c.ord for c in note.cards()) == [0, 1, 2, 3, 4]
        c3 = next(c for c in note.cards() if c.ord == 2)
        front = _visible(c3.question())
        assert f"[{_fold(hint)}]" in front
        assert f"{_fold(before)} [{_fold(hint)}] {_fold(after)}" in front
        assert _fold(f"{before} {phrase} {after}") in _visible(c3.answer())
    finally:
        col.close()
