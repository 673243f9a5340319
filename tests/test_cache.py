"""cache.py: warm rebuilds skip unchanged files and still give a cold build's bytes."""

from __future__ import annotations

import errno
import hashlib

import pytest

from deckgen import BuildOptions, DeckgenError, build, load_project
from deckgen import cache as cache_mod
from deckgen import model, package
from tests.conftest import scenario, small_tree, snapshot


def _build(root, out="build", cache=True, **opts):
    project = load_project(root / "scenarios", root / "media", cache_dir=(root / out / ".cache") if cache else None)
    return build(project, BuildOptions(out_dir=root / out, **opts)).path


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_warm_build_equals_cold_build_after_an_edit(tmp_path, monkeypatch):
    root = small_tree(tmp_path)
    _build(root)
    assert (root / "build" / ".cache" / cache_mod.FILE_NAME).is_file()
    (root / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="hard").replace("Roll back the release", "Roll back at once")
    )

    parsed = []
    real = model.loader.parse_document
    monkeypatch.setattr(model.loader, "parse_document", lambda *a: parsed.append(a[2]) or real(*a))
    warm = _build(root)
    assert parsed == [
        str(root / "scenarios/deck.yaml"),
        str(root / "scenarios/streaming-kafka/late-events-window.yaml"),
    ]
    cold = _build(root, out="cold", cache=False)
    assert _sha(warm) == _sha(cold)


def test_peers_and_full_fields_are_cached_apart(tmp_path):
    root = small_tree(
        tmp_path, **{"scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario(story="'Paged at 3am.'")}
    )
    full = _build(root)
    peers = _build(root, for_peers=True)
    assert _sha(_build(root)) == _sha(full)
    assert _sha(_build(root, out="cold", cache=False, for_peers=True)) == _sha(peers)


def test_a_damaged_cache_is_ignored(tmp_path):
    root = small_tree(tmp_path)
    cold = _build(root, out="cold", cache=False)
    (root / "build" / ".cache").mkdir(parents=True)
    (root / "build" / ".cache" / cache_mod.FILE_NAME).write_bytes(b"not a database")
    assert _sha(_build(root)) == _sha(cold)


def test_invalid_input_leaves_no_cache_behind(tmp_path):
    root = small_tree(
        tmp_path,
        **{"scenarios/streaming-kafka/late-events-window.yaml": scenario("late-events-window", difficulty="extreme")},
    )
    with pytest.raises(DeckgenError):
        load_project(root / "scenarios", root / "media", cache_dir=root / "build" / ".cache")
    assert not (root / "build").exists()


def test_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    root = small_tree(tmp_path)
    earlier = _build(root, cache=False)
    before = snapshot(root / "build")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(package.shutil, "copyfileobj", full)
    with pytest.raises(DeckgenError) as info:
        _build(root, cache=False)
    assert str(info.value) == f"{earlier}: cannot write the package: No space left on device; nothing was changed"
    assert snapshot(root / "build") == before


def test_orphans_are_pruned_once_they_outnumber_live_entries(tmp_path):
    import sqlite3

    root = small_tree(tmp_path)
    cold = _build(root, out="cold", cache=False)
    _build(root)
    db_path = root / "build" / ".cache" / cache_mod.FILE_NAME
    with sqlite3.connect(db_path) as db:
        live = db.execute("select count(*) from entries").fetchone()[0]
        db.executemany("insert into entries values (?, ?)", ((f"sorphan{i}", b"x") for i in range(150)))
    (root / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="hard").replace("Roll back", "Revert")
    )
    (root / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="hard")
    )
    assert _sha(_build(root)) == _sha(cold)
    with sqlite3.connect(db_path) as db:
        keys = [k for (k,) in db.execute("select key from entries")]
    assert not any(k.startswith("sorphan") for k in keys) and len(keys) == live
