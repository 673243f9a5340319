"""Releases: manifests, the release diff, retired scenarios, and updates in real Anki."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen import BuildOptions, DeckgenError, build, load_project
from deckgen.cli import main
from deckgen.diff import compare, format_report
from deckgen.manifest import read
from deckgen.release import release
from tests.conftest import DECK_YAML, import_apkg, new_collection, scenario, small_tree


def _v1(root: Path) -> Path:
    return small_tree(root)


def _v2(root: Path) -> Path:
    """Two scenarios edited, one added, one retired, version and date moved forward."""
    tree = small_tree(
        root,
        **{
            "scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", "version: 1.1.0").replace(
                "2026-01-10", "2026-03-01"
            ),
            "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario().replace(
                "Roll back the release", "Roll back release 2.31"
            ),
            "scenarios/streaming-kafka/late-events-window.yaml": scenario(
                "late-events-window", difficulty="hard"
            ).replace("Lag is a symptom", "Lag is only a symptom"),
            "scenarios/pipeline-failures/gzip-one-task.yaml": None,
            "scenarios/pipeline-failures/skewed-join-key.yaml": scenario(
                "skewed-join-key", "pipeline-failures", "hard"
            ),
            "scenarios/retired.yaml": "retired:\n  - id: gzip-one-task\n    version: 1.1.0\n    reason: merged into skewed-join-key\n",
        },
    )
    return tree


def _release(root: Path):
    return release(root / "scenarios", root / "media", root / "build", root / "releases", root / "CHANGELOG.md")


def _seed_release(src: Path, dst: Path) -> None:
    """Copy v1's committed release record (releases/ and CHANGELOG.md) into v2's tree."""
    (dst / "releases").mkdir(exist_ok=True)
    for p in (src / "releases").iterdir():
        (dst / "releases" / p.name).write_bytes(p.read_bytes())
    (dst / "CHANGELOG.md").write_bytes((src / "CHANGELOG.md").read_bytes())


def test_manifest_records_identity_and_content(tmp_path):
    root = _v1(tmp_path)
    path = build(load_project(root / "scenarios", root / "media"), BuildOptions(out_dir=root / "build")).path
    m = json.loads((root / "build" / "test-deck-v1.0.0.manifest.json").read_text())
    assert m["deck"] == {
        "slug": "test-deck",
        "title": "Test Deck: Scenarios",
        "version": "1.0.0",
        "released": "2026-01-10",
        "tag_root": "test-deck",
    }
    assert m["apkg"] == {"file": "test-deck-v1.0.0.apkg", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert m["builder"]["name"] == "deckgen"
    assert [t["name"] for t in m["note_types"]] == ["deckgen Scenario", "deckgen Bucket"]
    scen = {n["id"]: n for n in m["notes"] if n["kind"] == "scenario"}
    assert set(scen) == {"kafka-lag-after-deploy", "late-events-window", "gzip-one-task"}
    assert scen["gzip-one-task"]["category"] == "pipeline-failures"
    assert "test-deck::difficulty::easy" in scen["gzip-one-task"]["tags"]
    # An .apkg read back gives the same notes as the manifest written beside it.
    from_apkg = read(path)
    assert [(n["guid"], n["hash"]) for n in from_apkg["notes"]] == [(n["guid"], n["hash"]) for n in m["notes"]]
    assert from_apkg["deck"]["version"] == "1.0.0" and from_apkg["deck"]["released"] == "2026-01-10"


def test_release_flow_diff_changelog_and_refusals(tmp_path):
    v1 = _v1(tmp_path / "v1")
    first = _release(v1)
    assert first.report is None
    assert sorted(p.name for p in first.files if p.suffix == ".apkg") == [
        "test-deck-v1.0.0-peers.apkg",
        "test-deck-v1.0.0-pipeline-failures.apkg",
        "test-deck-v1.0.0-streaming-kafka.apkg",
        "test-deck-v1.0.0-tts-en-us.apkg",
        "test-deck-v1.0.0.apkg",
    ]
    assert "## 1.0.0 (2026-01-10)\n\n- First release: 3 scenarios in 2 categories." in (v1 / "CHANGELOG.md").read_text()

    v2 = _v2(tmp_path / "v2")
    _seed_release(v1, v2)
    second = _release(v2)
    text = format_report(second.report)
    assert text.splitlines() == [
        "Test Deck: Scenarios: 1.0.0 (2026-01-10) -> 1.1.0 (2026-03-01)",
        "added: 1",
        "  + skewed-join-key  (pipeline-failures)",
        "changed: 2",
        "  ~ kafka-lag-after-deploy  (immediate)",
        "  ~ late-events-window  (back)",
        "retired: 1",
        "  - gzip-one-task  (merged into skewed-join-key)",
        "unchanged: 2",
        "ok: importing NEW over OLD updates notes in place",
    ]
    changelog = (v2 / "CHANGELOG.md").read_text()
    assert changelog.index("## 1.1.0 (2026-03-01)") < changelog.index("## 1.0.0 (2026-01-10)")
    assert "- Retired: `gzip-one-task`: merged into skewed-join-key" in changelog
    assert "- Added: Consumer lag explodes after a deploy (`skewed-join-key`)" in changelog
    desc = read(v2 / "build" / "test-deck-v1.1.0.apkg")  # the overview shows what is new
    assert desc["deck"]["version"] == "1.1.0"
    kept = json.loads((v2 / "releases" / "test-deck-v1.1.0.manifest.json").read_text())
    assert kept["retired"] == [{"id": "gzip-one-task", "version": "1.1.0", "reason": "merged into skewed-join-key"}]

    # Running the same release again changes nothing; changing content under the same version is refused.
    before = {p: p.read_bytes() for p in second.files}
    again = _release(v2)
    assert {p: p.read_bytes() for p in again.files} == before
    (v2 / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="easy")
    )
    with pytest.raises(DeckgenError) as info:
        _release(v2)
    assert "exists with different content" in str(info.value)
    assert {p: p.read_bytes() for p in second.files} == before


def test_release_builds_are_byte_identical(tmp_path):
    one, two = _v1(tmp_path / "a"), _v1(tmp_path / "b")
    files_one = _release(one).files
    files_two = _release(two).files

    def digest(files, root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    assert digest(files_one, one) == digest(files_two, two)


def test_release_refuses_a_removal_without_retirement(tmp_path):
    v1 = _v1(tmp_path / "v1")
    _release(v1)
    v2 = small_tree(
        tmp_path / "v2",
        **{
            "scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", "version: 1.1.0").replace(
                "2026-01-10", "2026-03-01"
            ),
            "scenarios/pipeline-failures/gzip-one-task.yaml": None,
        },
    )
    _seed_release(v1, v2)
    with pytest.raises(DeckgenError) as info:
        _release(v2)
    assert "`gzip-one-task` is gone without a retirement: list it in scenarios/retired.yaml" in str(info.value)
    assert not (v2 / "build").exists()


def test_retired_id_cannot_come_back(tmp_path):
    root = small_tree(
        tmp_path,
        **{"scenarios/retired.yaml": "retired:\n  - id: gzip-one-task\n    version: 1.1.0\n    reason: merged\n"},
    )
    with pytest.raises(DeckgenError) as info:
        load_project(root / "scenarios", root / "media")
    assert str(info.value).endswith(
        "pipeline-failures/gzip-one-task.yaml:1: id: `gzip-one-task` was retired (retired.yaml:2): ids are never reused, choose a new one"
    )


# -- crafted pairs: each failure the diff must catch ----------------------------------------


@pytest.fixture
def pair(tmp_path):
    root = _v1(tmp_path)
    build(load_project(root / "scenarios", root / "media"), BuildOptions(out_dir=root / "build"))
    old = json.loads((root / "build" / "test-deck-v1.0.0.manifest.json").read_text())
    new = copy.deepcopy(old)
    new["deck"]["version"], new["deck"]["released"] = "1.1.0", "2026-02-01"
    return old, new


def _scen(m, sid):
    return next(n for n in m["notes"] if n.get("id") == sid)


def test_diff_clean_pair(pair):
    old, new = pair
    report = compare(old, new)
    assert report.ok and not report.content_changed and report.unchanged == 5


def test_diff_catches_guid_reused_for_another_scenario(pair):
    old, new = pair
    _scen(new, "gzip-one-task")["guid"] = _scen(old, "late-events-window")["guid"]
    new["notes"] = [n for n in new["notes"] if n.get("id") != "late-events-window"]
    report = compare(old, new)
    assert any("was `late-events-window` and is now `gzip-one-task`" in p for p in report.problems)


def test_diff_catches_new_guid_for_same_scenario(pair):
    old, new = pair
    _scen(new, "gzip-one-task")["guid"] = "NEWGUID"
    assert any("`gzip-one-task` has a new GUID" in p for p in compare(old, new).problems)


def test_diff_catches_note_type_rename(pair):
    old, new = pair
    new["note_types"][0]["fields"][1] = "Scenario"
    new["note_types"][0]["fingerprint"] = "changed"
    assert any(
        "note type `deckgen Scenario` changed its field or template names" in p for p in compare(old, new).problems
    )


@pytest.mark.parametrize(
    "version,released,message",
    [
        ("1.0.0", "2026-02-01", "the version did not move forward (1.0.0 -> 1.0.0)"),
        ("1.1.0", "2026-01-10", "`released` did not move forward (2026-01-10 -> 2026-01-10)"),
        ("0.9.0", "2026-01-09", "the version did not move forward (1.0.0 -> 0.9.0)"),
    ],
)
def test_diff_catches_content_change_without_moving_forward(pair, version, released, message):
    old, new = pair
    new["deck"]["version"], new["deck"]["released"] = version, released
    _scen(new, "gzip-one-task")["hash"] = "edited"
    _scen(new, "gzip-one-task")["sections"]["why"] = "edited"
    report = compare(old, new)
    assert any(message in p for p in report.problems), report.problems


def test_diff_cli_exit_codes(pair, tmp_path):
    old, new = pair
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    runner = CliRunner()
    ok = runner.invoke(main, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    assert ok.exit_code == 0 and "ok: importing NEW over OLD updates notes in place" in ok.output
    _scen(new, "gzip-one-task")["guid"] = "NEWGUID"
    (tmp_path / "new.json").write_text(json.dumps(new))
    bad = runner.invoke(main, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    assert bad.exit_code == 1 and "! `gzip-one-task` has a new GUID" in bad.output
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    assert runner.invoke(main, ["diff", str(junk), str(tmp_path / "new.json")]).exit_code == 1


# -- real Anki: updates in place, reviews kept, subsets first --------------------------------


def _answer(col, cid):
    card = col.get_card(cid)
    card.start_timer()
    col.sched.answerCard(card, 3)
    c = col.get_card(cid)
    return (c.ivl, c.due, c.reps, c.type, c.queue, c.did)


@pytest.mark.parametrize("first", ["full", "subset"])
def test_release_update_in_anki_keeps_reviews(tmp_path, first):
    v1 = _v1(tmp_path / "v1")
    _release(v1)
    v2 = _v2(tmp_path / "v2")
    _seed_release(v1, v2)
    _release(v2)

    col = new_collection(tmp_path / "anki")
    if first == "subset":
        import_apkg(col, v1 / "build" / "test-deck-v1.0.0-streaming-kafka.apkg")
    import_apkg(col, v1 / "build" / "test-deck-v1.0.0.apkg")
    assert len(col.find_notes("")) == 5
    history = {}
    for nid in col.find_notes('"note:deckgen Scenario"'):
        for card in col.get_note(nid).cards()[:2]:
            history[card.id] = _answer(col, card.id)
    revlog = col.db.scalar("select count() from revlog")
    types_before = sorted(m.name for m in col.models.all_names_and_ids())

    log = import_apkg(col, v2 / "build" / "test-deck-v1.1.0.apkg")
    assert len(log.new) == 1 and not log.duplicate and not log.conflicting
    assert len(col.find_notes("")) == 6  # five kept (the retired one stays with its history) + one added
    nid = col.find_notes('"Scenario ID:kafka-lag-after-deploy"')
    assert len(nid) == 1 and "Roll back release 2.31" in col.get_note(nid[0])["Text"]
    assert "Lag is only a symptom" in col.get_note(col.find_notes('"Scenario ID:late-events-window"')[0])["Back Extra"]
    for cid, before in history.items():
        c = col.get_card(cid)
        assert (c.ivl, c.due, c.reps, c.type, c.queue, c.did) == before
    assert col.db.scalar("select count() from revlog") == revlog
    assert sorted(m.name for m in col.models.all_names_and_ids()) == types_before  # no note type copy
    col.close()


def test_diff_pending_waits_for_the_release(pair):
    old, new = pair
    new["deck"]["version"], new["deck"]["released"] = "1.0.0", "2026-01-10"
    _scen(new, "gzip-one-task")["hash"] = "edited"
    _scen(new, "gzip-one-task")["sections"]["why"] = "edited"
    assert not compare(old, new).ok
    pending = compare(old, new, pending=True)
    assert pending.ok and [c.id for c in pending.changed] == ["gzip-one-task"]


def test_release_may_replace_a_plain_build_of_the_same_version(tmp_path):
    root = _v1(tmp_path)
    plain = build(load_project(root / "scenarios", root / "media"), BuildOptions(out_dir=root / "build")).path
    before = plain.read_bytes()
    _release(root)  # its description carries the changelog section, so the bytes differ
    assert plain.read_bytes() != before
    assert json.loads((root / "build" / "test-deck-v1.0.0.manifest.json").read_text())["build"]["release"] is True


def test_diff_of_packages_uses_the_manifests_beside_them(tmp_path):
    v1 = _v1(tmp_path / "v1")
    _release(v1)
    v2 = _v2(tmp_path / "v2")
    _seed_release(v1, v2)
    _release(v2)
    result = CliRunner().invoke(
        main, ["diff", str(v1 / "build/test-deck-v1.0.0.apkg"), str(v2 / "build/test-deck-v1.1.0.apkg")]
    )
    assert result.exit_code == 0
    assert "  - gzip-one-task  (merged into skewed-join-key)" in result.output


def test_release_after_a_slug_change_is_refused(tmp_path):
    v1 = _v1(tmp_path / "v1")
    _release(v1)
    v2 = small_tree(
        tmp_path / "v2",
        **{
            "scenarios/deck.yaml": DECK_YAML.replace("slug: test-deck", "slug: renamed-deck")
            .replace("version: 1.0.0", "version: 1.1.0")
            .replace("2026-01-10", "2026-03-01"),
        },
    )
    _seed_release(v1, v2)
    with pytest.raises(DeckgenError) as info:
        _release(v2)
    assert str(info.value) == (
        f"{v2 / 'releases' / 'test-deck-v1.0.0.manifest.json'}: the last release is `test-deck` 1.0.0 and deck.yaml "
        "now says slug `renamed-deck`: every note would get a new GUID and users would get a duplicate of every "
        "card; restore the slug (a fork starts with an empty releases/)"
    )
    assert not (v2 / "build").exists()


def test_release_of_a_version_below_the_last_is_refused(tmp_path):
    v1 = small_tree(tmp_path / "v1", **{"scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", "version: 2.0.0")})
    _release(v1)
    v2 = small_tree(
        tmp_path / "v2",
        **{
            "scenarios/deck.yaml": DECK_YAML.replace("version: 1.0.0", "version: 1.5.0").replace(
                "2026-01-10", "2026-03-01"
            ),
        },
    )
    _seed_release(v1, v2)
    with pytest.raises(DeckgenError) as info:
        _release(v2)
    assert str(info.value).endswith(
        "version 1.5.0 is below the last release 2.0.0: a release moves forward; set a version above it in deck.yaml"
    )
    assert not (v2 / "build").exists()


# -- hostile manifests and packages given to diff and release ------------------------------------


def _recursive_view_apkg(path: Path) -> Path:
    import sqlite3
    import zipfile

    db = path.with_suffix(".sqlite")
    with sqlite3.connect(db) as conn:
        conn.executescript(
            "create table col (models text, decks text); insert into col values ('{}', '{}');"
            "create view notes as with recursive r(n) as (select 1 union all select n + 1 from r)"
            " select 'g' as guid, 1 as mid, '' as flds, '' as tags, n as id from r;"
        )
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(db, "collection.anki2")
    return path


HOSTILE = [
    ("not json", b"{not json", "not a deckgen manifest: Expecting property name enclosed in double quotes"),
    (
        "notes not a list",
        b'{"format": 1, "deck": {}, "notes": {"a": 1}}',
        "not a deckgen manifest: `notes` is not a list",
    ),
    (
        "note without guid",
        b'{"format": 1, "deck": {}, "notes": [{"kind": "scenario"}]}',
        "not a deckgen manifest: notes[1].guid is not text",
    ),
    (
        "sections not text",
        b'{"format": 1, "deck": {}, "notes": [{"guid": "g", "kind": "scenario", "id": "x", "hash": "h", '
        b'"sections": {"a": 3}}]}',
        "not a deckgen manifest: notes[1].sections is not a mapping of text",
    ),
    ("deck a list", b'{"format": 1, "deck": [], "notes": []}', "not a deckgen manifest: `deck` is not a mapping"),
    (
        "deeply nested",
        b'{"format": 1, "deck": ' + b"[" * 100000 + b"]" * 100000 + b', "notes": []}',
        "not a deckgen manifest: ",
    ),
    ("zip of garbage", b"PK\x03\x04garbage", "not a readable zip file"),
]


@pytest.mark.parametrize("data,expected", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_manifests_are_refused_without_a_traceback(pair, tmp_path, data, expected):
    old, _ = pair
    good = tmp_path / "old.manifest.json"
    good.write_text(json.dumps(old))
    bad = tmp_path / "bad.manifest.json"
    bad.write_bytes(data)
    result = CliRunner().invoke(main, ["diff", str(good), str(bad)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.output.startswith(f"{bad}") and expected in result.output and len(result.output.splitlines()) == 1


def test_a_package_whose_notes_are_a_recursive_view_is_refused_at_once(pair, tmp_path):
    old, _ = pair
    good = tmp_path / "old.manifest.json"
    good.write_text(json.dumps(old))
    apkg = _recursive_view_apkg(tmp_path / "evil.apkg")
    result = CliRunner().invoke(main, ["diff", str(good), str(apkg)])
    assert result.exit_code == 1
    assert (
        result.output.strip() == f"{apkg}: not an Anki package deckgen can read: its col and notes are not plain tables"
    )


def test_an_unparsable_version_is_a_problem_not_a_skipped_check(pair):
    old, new = pair
    new["deck"]["version"] = "1.1"
    report = compare(old, new)
    assert "NEW's version '1.1' is not MAJOR.MINOR.PATCH: the update check cannot be made" in report.problems
    assert not report.ok


def test_release_reads_only_manifests_it_can_trust(tmp_path):
    v1 = _v1(tmp_path / "v1")
    _release(v1)
    (v1 / "releases" / "test-deck-v0.9.0.manifest.json").write_bytes(
        b'{"format": 1, "deck": {"version": "zero"}, "notes": []}'
    )
    with pytest.raises(DeckgenError) as info:
        _release(v1)
    assert str(info.value) == (
        f"{v1 / 'releases' / 'test-deck-v0.9.0.manifest.json'}: version 'zero' is not "
        "MAJOR.MINOR.PATCH: not a release manifest deckgen wrote"
    )


def test_diff_refuses_a_retired_id_that_comes_back(pair, tmp_path):
    old, new = pair
    gone = "gzip-one-task"
    old["retired"] = [{"id": gone, "version": "0.9.0", "reason": "merged into skewed-join-key"}]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))  # NEW still holds a note with that id
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    assert result.exit_code == 1
    assert "  ! `gzip-one-task` was retired in 0.9.0: ids are never reused" in result.output.splitlines()
