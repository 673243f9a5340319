"""Switching editions in real Anki: plain, text-to-speech, peers and a subset, at one version and across two.

For every ordered pair, import A, study, import B, and check what the README promises:
templates speak exactly when they should, edits arrive when B is newer, every review and due
date is kept, and no note or note type is duplicated. `deckgen diff A B` says the same.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from deckgen import BuildOptions, build, load_project
from deckgen.diff import compare, format_report
from deckgen.manifest import read
from tests.conftest import DECK_YAML, import_apkg, new_collection, scenario, small_tree

EDITIONS = {
    "plain": {},
    "tts": {"tts": "en_US"},
    "peers": {"for_peers": True},
    "subset": {"categories": ("streaming-kafka",)},
}
STORY = "'Paged at 3am for this one.'"
EDIT = "Roll back release 2.31 behind the flag"


def _tree(root: Path, version: str, released: str, edited: bool) -> Path:
    text = scenario(story=STORY)
    if edited:
        text = text.replace("Roll back the release", EDIT)
    return small_tree(
        root,
        **{
            "scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", f"version: {version}").replace(
                "2026-01-10", released
            ),
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": text,
        },
    )


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[tuple[str, str], Path]:
    out = {}
    for version, released, edited in (("1.0.0", "2026-01-10", False), ("1.1.0", "2026-02-01", True)):
        root = _tree(tmp_path_factory.mktemp(f"v{version}"), version, released, edited)
        project = load_project(root / "scenarios", root / "media")
        for name, opts in EDITIONS.items():
            out[(name, version)] = build(project, BuildOptions(out_dir=root / "build", **opts)).path
    return out


def _study(col) -> dict[int, tuple]:
    """Answer the first card of every note once; return each card's scheduling."""
    for nid in col.find_notes(""):
        card = col.get_note(nid).cards()[0]
        card.start_timer()
        col.sched.answerCard(card, 3)
    return {cid: _sched(col, cid) for cid in col.find_cards("")}


def _sched(col, cid: int) -> tuple:
    c = col.get_card(cid)
    return (c.nid, c.ivl, c.due, c.reps, c.type, c.queue, c.did)


def _speaks(col) -> bool:
    """Whether the cards speak, as the reviewer would play them (the question's TTS tags)."""
    card = _note(col, "kafka-lag-after-deploy").cards()[2]
    return bool(card.question_av_tags()) and bool(card.answer_av_tags())


def _note(col, sid: str):
    nids = col.find_notes(f'"Scenario ID:{sid}"')
    return col.get_note(nids[0]) if nids else None


CASES = [
    (a, b, same) for a, b in itertools.product(EDITIONS, repeat=2) for same in (True, False) if not (a == b and same)
]


@pytest.mark.parametrize("a,b,same", CASES, ids=[f"{a}-to-{b}-{'same' if s else 'newer'}" for a, b, s in CASES])
def test_switching_editions(tmp_path, packages, a, b, same):
    first, second = packages[(a, "1.0.0")], packages[(b, "1.0.0" if same else "1.1.0")]
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, first)
        before = _study(col)
        reviews = col.db.scalar("select count() from revlog")
        log = import_apkg(col, second)
        assert not log.duplicate or same, "a newer release updates, it is never a duplicate"
        assert not log.conflicting and not log.missing_notetype and not log.missing_deck
        names = [m.name for m in col.models.all_names_and_ids()]
        assert sorted(n for n in names if n.startswith("deckgen")) == ["deckgen Bucket", "deckgen Scenario"]
        for cid, sched in before.items():  # every card studied keeps its note, schedule and deck
            assert _sched(col, cid) == sched
        assert col.db.scalar("select count() from revlog") == reviews
        guids = col.db.list("select guid from notes")
        assert len(guids) == len(set(guids))

        # Speech: a TTS edition is newer than the plain one of its release; any later release wins.
        assert _speaks(col) == ((a == "tts" or b == "tts") if same else b == "tts"), "speech"
        note = _note(col, "kafka-lag-after-deploy")
        if not same:
            assert EDIT in note["Text"]  # edits arrive from the newer release
            assert ("Paged at 3am" in note["Back Extra"]) == (b != "peers")
        else:
            assert ("Paged at 3am" in note["Back Extra"]) == (a != "peers")  # the copy Anki already had
        if {a, b} != {"subset"}:  # a full edition on either side brings the other categories' notes
            assert _note(col, "gzip-one-task") is not None
    finally:
        col.close()


@pytest.mark.parametrize("a,b,same", CASES, ids=[f"{a}-to-{b}-{'same' if s else 'newer'}" for a, b, s in CASES])
def test_diff_between_editions_says_what_the_switch_does(packages, a, b, same):
    old, new = read(packages[(a, "1.0.0")]), read(packages[(b, "1.0.0" if same else "1.1.0")])
    report = compare(old, new)
    text = format_report(report)
    assert report.ok, text
    if same and a == "tts" and b != "tts":
        assert "importing it changes nothing: cards keep speaking" in text
    if same and b == "tts" and a != "tts":
        assert "cards start speaking" in text
    if not same and a == "tts" and b != "tts":
        assert "warning: `deckgen Scenario`: NEW is silent and newer, so cards stop speaking" in text
    if same and b == "peers" and a != "peers":
        assert (
            "NEW leaves out the personal stories of 1 note, at the same version and date: importing it changes none"
            in text
        )
