"""The deck we ship: its shape against deck.yaml's targets, and a real import."""

from __future__ import annotations

from collections import Counter

import pytest

from deckgen import BuildOptions, build, load_project
from deckgen.builder import manifest_of
from deckgen.diff import compare
from deckgen.release import last_release
from tests.conftest import REPO, import_apkg


@pytest.fixture(scope="module")
def project():
    return load_project(REPO / "scenarios", REPO / "media")


def test_every_category_is_at_its_target(project):
    have = Counter(s.category for s in project.scenarios)
    assert {c.slug: have[c.slug] for c in project.deck.categories} == {
        c.slug: c.target for c in project.deck.categories
    }
    assert [c.slug for c in project.deck.categories] == [
        "pipeline-failures",
        "performance-latency",
        "streaming-kafka",
        "data-quality",
        "cloud-cost",
        "orchestration",
        "schema-evolution",
        "backfills-recovery",
        "security-compliance",
        "stakeholders",
    ]
    assert len(project.deck.buckets) == 11


def test_spread_of_difficulty_and_primary_buckets(project):
    n = len(project.scenarios)
    diff = Counter(s.difficulty for s in project.scenarios)
    assert 0.20 <= diff["easy"] / n <= 0.30 and 0.45 <= diff["medium"] / n <= 0.55 and 0.20 <= diff["hard"] / n <= 0.30
    primary = Counter(s.buckets[0] for s in project.scenarios)
    assert min(primary[b.slug] for b in project.deck.buckets) >= 4


def test_the_classification_is_covered(project):
    covered = {p for s in project.scenarios for p in s.covers}
    assert project.deck.classification_phrases() <= covered


def test_charts_in_every_category_as_the_readme_says(project):
    charted = [s for s in project.scenarios if s.charts]
    assert {s.category for s in charted} == {c.slug for c in project.deck.categories}
    assert f"charts on {len(charted)} scenarios, in every category" in (REPO / "README.md").read_text("utf-8")


def test_titles_and_ids_are_unique(project):
    assert len({s.title for s in project.scenarios}) == len(project.scenarios)
    assert len({s.id for s in project.scenarios}) == len(project.scenarios)


def test_bundled_deck_imports_into_anki(project, tmp_path, collection):
    apkg = build(project, BuildOptions(out_dir=tmp_path)).path
    log = import_apkg(collection, apkg)
    assert len(log.new) == 121
    for quiet in (
        "updated",
        "duplicate",
        "conflicting",
        "first_field_match",
        "missing_notetype",
        "missing_deck",
        "empty_first_field",
    ):
        assert len(getattr(log, quiet)) == 0, quiet  # Anki had nothing to warn about
    assert len(collection.get_empty_cards().notes) == 0
    message, ok = collection.fix_integrity()
    assert ok and "rebuilt" in message.lower()
    assert len(collection.find_notes('"note:deckgen Scenario"')) == 110
    assert len(collection.find_notes('"note:deckgen Bucket"')) == 11
    assert collection.card_count() == 110 * 5 + 11 * 2
    names = [d.name for d in collection.decks.all_names_and_ids()]
    assert sum(1 for n in names if n.startswith("When Theory Ends: Production Scenarios::")) == 11


def test_current_sources_update_the_last_release_in_place(project):
    """Whatever changed since the last release, importing it must update notes in place."""
    last = last_release(REPO / "releases", project.deck.slug, "999999.0.0")
    assert last is not None, "releases/ holds the manifest of every published version"
    report = compare(last, manifest_of(project, BuildOptions()), pending=True)
    assert report.ok, report.problems


def test_the_bundled_deck_is_lint_clean(project):
    from deckgen.lint import lint

    report = lint(REPO / "scenarios", REPO / "media")
    assert report.findings == (), "\n".join(str(f) for f in report.findings[:20])
    assert report.scenarios == len(project.scenarios)


RELEASED_1_0 = REPO / "tests" / "fixtures" / "when-theory-ends-v1.0.0.apkg"


def test_the_current_deck_updates_the_released_1_0_0_in_place(project, tmp_path, collection):
    """A user of 1.0.0 who studied for a while imports the current release: every note updates in place."""
    import hashlib
    import json

    released = json.loads((REPO / "releases" / "when-theory-ends-v1.0.0.manifest.json").read_text())
    assert hashlib.sha256(RELEASED_1_0.read_bytes()).hexdigest() == released["apkg"]["sha256"]  # the real file
    import_apkg(collection, RELEASED_1_0)
    for nid in collection.find_notes("")[::3]:  # study a third of the notes, two cards each
        for card in collection.get_note(nid).cards()[:2]:
            card.start_timer()
            collection.sched.answerCard(card, 3)
    before = {cid: _schedule(collection, cid) for cid in collection.find_cards("")}
    reviews = collection.db.scalar("select count() from revlog")
    note_ids = sorted(collection.find_notes(""))
    assert reviews > 0
    log = import_apkg(collection, build(project, BuildOptions(out_dir=tmp_path)).path)
    assert len(log.updated) == 121 and not log.new and not log.duplicate and not log.conflicting
    assert sorted(collection.find_notes("")) == note_ids
    assert {cid: _schedule(collection, cid) for cid in collection.find_cards("")} == before
    assert collection.db.scalar("select count() from revlog") == reviews
    models = [m.name for m in collection.models.all_names_and_ids()]
    assert sorted(m for m in models if m.startswith("deckgen")) == ["deckgen Bucket", "deckgen Scenario"]
    collection.models._clear_cache()
    assert 'id="answer" class="wte-anchor' in collection.models.by_name("deckgen Scenario")["tmpls"][0]["afmt"]


def _schedule(col, cid: int) -> tuple:
    c = col.get_card(cid)
    return (c.nid, c.did, c.ivl, c.due, c.reps, c.lapses, c.type, c.queue)
