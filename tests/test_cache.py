"""cache.py: warm rebuilds skip unchanged files and still give a cold build's bytes."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil

import pytest

from deckgen import BuildOptions, DeckgenError, build, builder, load_project, model, package
from deckgen import cache as cache_mod
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
    _build(root)
    with sqlite3.connect(_db(root)) as db:
        before = dict(db.execute("select key, value from entries"))
        db.executemany("insert into entries values (?, ?)", ((f"sorphan{i}", b"x") for i in range(150)))
    (root / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="hard").replace("Roll back", "Revert")
    )
    warm = _build(root)
    assert _sha(warm) == _sha(_build(root, out="cold", cache=False))
    keys = set(_rows(root))
    assert not any(k.startswith("sorphan") for k in keys)  # the 150 orphans outnumbered the live entries
    stale = set(before) - keys
    assert len(stale) == 2 and len(keys) == len(before)  # the edited file's two old entries went, two new came


# -- a cache is never trusted beyond what a cold build makes ---------------------------------


def _db(root):
    return root / "build" / ".cache" / cache_mod.FILE_NAME


def _rows(root):
    import sqlite3

    with sqlite3.connect(_db(root)) as db:
        return dict(db.execute("select key, value from entries"))


def _writes(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = cache_mod.Cache._write
    monkeypatch.setattr(cache_mod.Cache, "_write", lambda self, k, v: calls.append(k) or real(self, k, v))
    return calls


def test_a_corrupt_page_is_dropped_after_one_failure(tmp_path, monkeypatch):
    root = small_tree(tmp_path)
    cold = _build(root, out="cold", cache=False)
    _build(root)
    data = bytearray(_db(root).read_bytes())
    data[4096:8192] = b"\xff" * 4096  # the second page: entries' b-tree
    _db(root).write_bytes(bytes(data))
    (root / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
        scenario("late-events-window", difficulty="hard").replace("Roll back", "Revert")
    )
    writes = _writes(monkeypatch)
    warm = _build(root)
    cold_edit = _build(root, out="cold2", cache=False)
    assert _sha(warm) == _sha(cold_edit) and _sha(cold) != _sha(cold_edit)
    assert len(writes) <= 1  # one failure, then the run goes on without a cache: no lock to wait for


def test_a_read_only_cache_folder_is_skipped_without_waiting(tmp_path, monkeypatch):
    import os
    import stat

    root = small_tree(tmp_path)
    _build(root)
    if os.geteuid() == 0:
        monkeypatch.setattr(cache_mod, "_connect", _read_only_connect)
    folder = root / "build" / ".cache"
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _db(root).chmod(stat.S_IRUSR)
    try:
        (root / "scenarios/streaming-kafka/late-events-window.yaml").write_text(
            scenario("late-events-window", difficulty="hard").replace("Roll back", "Revert")
        )
        writes = _writes(monkeypatch)
        warm = _build(root)
        assert len(writes) <= 1
    finally:
        folder.chmod(stat.S_IRWXU)
    assert _sha(warm) == _sha(_build(root, out="cold", cache=False))


def _read_only_connect(path):
    """root ignores file modes: open the database read-only, as a user without write access would."""
    import sqlite3

    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level="DEFERRED", timeout=0.2)


def test_a_committed_cache_file_is_never_trusted(tmp_path):
    """A pull request that adds build/.cache with crafted rows gets a cold build's bytes."""
    import sqlite3
    import zlib

    root = small_tree(tmp_path)
    cold = _build(root, out="cold", cache=False)
    _build(root)
    evil = '<script>alert(1)</script><img src="https://evil.example/x.png">'
    with sqlite3.connect(_db(root)) as db:
        for key, value in list(db.execute("select key, value from entries")):
            if key.startswith("f"):
                fields = json.loads(zlib.decompress(value[32:]))
                fields[2] = evil + fields[2]
                forged = zlib.compress(json.dumps(fields).encode(), 1)
                db.execute("update entries set value = ? where key = ?", (b"\0" * 32 + forged, key))
    warm = _build(root)
    assert _sha(warm) == _sha(cold)
    assert b"evil.example" not in zipfile_text(warm)


def zipfile_text(apkg) -> bytes:
    import zipfile

    with zipfile.ZipFile(apkg) as zf:
        return zf.read("collection.anki2")


def test_signed_rows_swapped_between_keys_or_of_the_wrong_shape_are_misses(tmp_path):
    import sqlite3

    root = small_tree(tmp_path)
    cold = _build(root, out="cold", cache=False)
    _build(root)
    with sqlite3.connect(_db(root)) as db:
        rows = list(db.execute("select key, value from entries where key like 'f%' order by key"))
        (k1, v1), (k2, v2) = rows[0], rows[1]
        db.execute("update entries set value = ? where key = ?", (v2, k1))  # valid MAC, other key
        db.execute("update entries set value = ? where key = ?", (v1, k2))
    assert _sha(_build(root)) == _sha(cold)
    store = cache_mod.Cache(root / "build" / ".cache")
    scenario_keys = [k for k in _rows(root) if k.startswith("s")]
    for k in scenario_keys:
        store._write(k, {"scenario": {"id": 3}, "id_line": "x"})  # signed, but not a scenario
    for k in [k for k in _rows(root) if k.startswith("f")]:
        store._write(k, ["only", "three", "fields"])
    store.save()
    assert _sha(_build(root)) == _sha(cold)


def test_a_symlinked_cache_file_is_not_written_into(tmp_path):
    import os

    root = small_tree(tmp_path)
    other = tmp_path / "someone-elses.sqlite"
    other.write_bytes(b"")
    (root / "build" / ".cache").mkdir(parents=True)
    os.symlink(other, _db(root))
    cold = _build(root, out="cold", cache=False)
    assert _sha(_build(root)) == _sha(cold)
    assert other.read_bytes() == b""


# -- the key covers everything a cold build depends on ------------------------------------------


def _warm_equals_cold(root, **opts):
    warm = _build(root, **opts)
    cold = _build(root, out="cold-" + "-".join(f"{k}{v}" for k, v in opts.items()), cache=False, **opts)
    assert _sha(warm) == _sha(cold)
    return warm


def test_deck_yaml_is_part_of_the_key(tmp_path):
    root = small_tree(tmp_path)
    before = _sha(_build(root))
    deck = root / "scenarios" / "deck.yaml"
    deck.write_text(deck.read_text().replace("title: Batch / Spark Processing", "title: Batch and Spark"))
    after = _warm_equals_cold(root)
    assert _sha(after) != before


def test_the_path_is_part_of_the_key(tmp_path):
    root = small_tree(tmp_path / "one")
    _build(root)
    other = tmp_path / "two"
    shutil.copytree(root / "scenarios", other / "scenarios")
    (other / "media").mkdir()
    bad = other / "scenarios" / "pipeline-failures" / "gzip-one-task.yaml"
    bad.rename(bad.with_name("renamed-file.yaml"))  # same bytes, another path: must be checked again
    with pytest.raises(DeckgenError) as info:
        load_project(other / "scenarios", other / "media", cache_dir=root / "build" / ".cache")
    assert "id: `gzip-one-task` must equal the file name `renamed-file`" in str(info.value)


def _rendered_by_a_warm_build(root, monkeypatch) -> list[str]:
    """Which scenarios a warm build rendered again (the rest came from the cache)."""
    rendered: list[str] = []
    real = builder._render
    monkeypatch.setattr(builder, "_render", lambda s: rendered.append(s.id) or real(s))
    warm = _sha(_build(root))
    monkeypatch.setattr(builder, "_render", real)
    assert warm == _sha(_build(root, out="cold", cache=False))
    return sorted(rendered)


ALL = ["gzip-one-task", "kafka-lag-after-deploy", "late-events-window"]


def test_the_builder_version_is_part_of_the_key(tmp_path, monkeypatch):
    from deckgen import cache_key

    root = small_tree(tmp_path)
    _build(root)
    assert _rendered_by_a_warm_build(root, monkeypatch) == []
    monkeypatch.setattr(cache_key, "__version__", "99.0.0")
    cache_key.environment.cache_clear()
    try:
        assert _rendered_by_a_warm_build(root, monkeypatch) == ALL
    finally:
        cache_key.environment.cache_clear()


@pytest.mark.parametrize("library", ["markdown", "pygments", "nh3", "pyyaml", "jsonschema"])
def test_every_renderer_version_is_part_of_the_key(tmp_path, monkeypatch, library):
    from deckgen import cache_key

    root = small_tree(tmp_path)
    _build(root)
    real = cache_key.metadata.version
    monkeypatch.setattr(cache_key.metadata, "version", lambda name: "99.0" if name == library else real(name))
    cache_key.environment.cache_clear()
    try:
        assert _rendered_by_a_warm_build(root, monkeypatch) == ALL
    finally:
        cache_key.environment.cache_clear()


@pytest.mark.parametrize("opts", [{"for_peers": True}, {"tts": "en_US"}, {"categories": ("pipeline-failures",)}])
def test_every_edition_warm_equals_cold(tmp_path, opts):
    root = small_tree(
        tmp_path, **{"scenarios/streaming-kafka/kafka-lag-after-deploy.yaml": scenario(story="'Paged at 3am.'")}
    )
    _build(root)  # the full deck warms the cache
    _warm_equals_cold(root, **opts)
