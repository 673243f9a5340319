"""suggest.py: edits made in Anki's editor come back as suggestions for the sources, never as writes."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

from deckgen import BuildOptions, build, builder, load_project, notes
from deckgen.cli import main
from deckgen.preview import plain_text
from deckgen.suggest import items, read_export, suggest
from tests.conftest import import_apkg, new_collection, small_tree

S = "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml"


@pytest.fixture
def studied(tmp_path, monkeypatch):
    """A deck built, imported, studied a little, and two notes edited in Anki's editor."""
    root = small_tree(tmp_path / "repo")
    monkeypatch.chdir(root)
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "add", "-A"], check=True)
    apkg = build(load_project("scenarios", "media"), BuildOptions(out_dir=root / "build")).path
    col = new_collection(tmp_path / "anki")
    import_apkg(col, apkg)
    edited = col.get_note(col.find_notes('"Scenario ID:kafka-lag-after-deploy"')[0])
    # The editor changes the field's HTML in place: a bullet inside its cloze, the situation's paragraph.
    edited["Text"] = edited["Text"].replace("Roll back the release", "Roll back release 2.31")
    edited["Situation"] = edited["Situation"].replace(
        "lag on the <code>orders</code> group passes 2M", "lag on the <code>orders</code> group passes 2.4M"
    )
    col.update_note(edited)
    tagged = col.get_note(col.find_notes('"Scenario ID:late-events-window"')[0])
    tagged.tags.append("marked")  # only tagged: not a suggestion
    col.update_note(tagged)
    card = col.get_note(col.find_notes('"Scenario ID:gzip-one-task"')[0]).cards()[0]
    card.start_timer()
    col.sched.answerCard(card, 3)  # only rescheduled: not a suggestion
    from anki.collection import ExportAnkiPackageOptions
    from anki.decks import DeckId

    deck_apkg = tmp_path / "export.apkg"
    root_deck = col.decks.by_name("Test Deck: Scenarios")
    col.export_anki_package(
        out_path=str(deck_apkg), options=ExportAnkiPackageOptions(with_scheduling=True), limit=DeckId(root_deck["id"])
    )
    whole, legacy = tmp_path / "whole.colpkg", tmp_path / "legacy.colpkg"
    col.export_collection_package(str(whole), include_media=True, legacy=False)  # closes the collection
    col = new_collection(tmp_path / "anki")
    col.export_collection_package(str(legacy), include_media=True, legacy=True)
    return root, {"apkg": deck_apkg, "colpkg": whole, "legacy colpkg": legacy}


@pytest.mark.parametrize("kind", ["apkg", "colpkg", "legacy colpkg"])
def test_edits_in_anki_are_reported_with_file_and_line(studied, kind):
    root, exports = studied
    result = CliRunner().invoke(main, ["suggest", str(exports[kind])])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{S}  (kafka-lag-after-deploy: Consumer lag explodes after a deploy)",
        f"  {S}:6: situation",
        "    Twenty minutes after the 14:05 release, lag on the orders group passes [-2M.-] {+2.4M.+} Airflow's "
        "{{ ds }} shows in the logs and C++ std::vector too.",
        f"  {S}:15: answer.immediate[2]",
        "    Roll back [-the-] release {+2.31+}",
        "1 note changed in Anki, 4 unchanged or only tagged or rescheduled",
    ]


def test_the_patch_applies_and_the_rebuild_matches_the_edited_note(studied):
    root, exports = studied
    before = (root / S).read_text()
    result = CliRunner().invoke(main, ["suggest", str(exports["apkg"]), "--format", "patch"])
    assert result.exit_code == 0
    assert (root / S).read_text() == before  # suggest never writes into the sources
    assert result.output.startswith(f"--- a/{S}\n+++ b/{S}\n")
    (root / "edit.patch").write_text(result.output)
    subprocess.run(["git", "apply", "edit.patch"], check=True)
    after = (root / S).read_text()
    assert "    - Roll back release 2.31\n" in after and "group passes 2.4M.\n" in after
    again = CliRunner().invoke(main, ["suggest", str(exports["apkg"])])
    assert again.output.splitlines() == ["0 notes changed in Anki, 5 unchanged or only tagged or rescheduled"]
    # The rebuilt note holds exactly the HTML the user's editor left in the two fields.
    theirs = next(n for n in read_export(exports["apkg"]) if n.fields.get("Scenario ID") == "kafka-lag-after-deploy")
    ours = next(s for s in builder.specs(load_project("scenarios", "media")) if s.guid == theirs.guid)
    for name in ("Situation", "Text"):
        assert ours.fields[notes.SCENARIO_FIELDS.index(name)] == theirs.fields[name], name


def test_edits_are_placed_by_their_words_and_the_rest_is_named_not_guessed(tmp_path, monkeypatch):
    root = small_tree(tmp_path / "repo")
    monkeypatch.chdir(root)
    apkg = build(load_project("scenarios", "media"), BuildOptions(out_dir=root / "build")).path
    col = new_collection(tmp_path / "anki")
    import_apkg(col, apkg)
    note = col.get_note(col.find_notes('"Scenario ID:kafka-lag-after-deploy"')[0])
    # Short words next to a marker: placed by their neighbours, the marker kept.
    note["Text"] = note["Text"].replace("stuck in a {{c3::rebalance", "caught in one {{c3::rebalance")
    note["Back Extra"] = note["Back Extra"].replace("<li>Adding partitions mid-incident</li>", "")  # a pitfall removed
    col.update_note(note)
    export = tmp_path / "export.apkg"
    from anki.collection import ExportAnkiPackageOptions

    col.export_anki_package(out_path=str(export), options=ExportAnkiPackageOptions(), limit=None)
    col.close()
    result = CliRunner().invoke(main, ["suggest", str(export), "--format", "patch"])
    assert result.exit_code == 0
    assert "+    - 'Check whether the group is caught in one [[rebalance loop|symptom]]'\n" in result.stdout
    assert result.stderr.splitlines() == [
        f"{S}:23: pitfalls[1] does not map cleanly onto the source (markup, a new or removed item, or a change "
        "across lines): edit it by hand"
    ]
    report = suggest(export, "scenarios", "media", "releases")
    assert [(e.line, e.where) for e in report.notes[0].edits] == [
        (14, ("answer", "immediate", 0)),
        (23, ("pitfalls", 0)),
    ]


def test_items_are_visible_text():
    fields = {
        "Title": "A &amp; B",
        "Situation": "<p>x <code>y</code></p>",
        "Text": '<div class="wte-s wte-s3"><h2>1</h2><ul><li>{{c3::a::hint}} b</li></ul></div>',
        "Back Extra": "",
    }
    got = items("scenario", fields)
    assert got[("title",)] == "A & B" and got[("situation",)] == "x y" and got[("answer", "immediate", 0)] == "a b"
    assert plain_text("{{c1::z}}") == "z"
