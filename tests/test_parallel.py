"""parallel.py: a deck big enough for worker processes gives the same bytes as one process."""

from __future__ import annotations

import hashlib

import pytest

from bench.generate import generate
from deckgen import BuildOptions, DeckgenError, build, load_project, parallel


def test_workers_and_one_process_give_the_same_package(tmp_path, monkeypatch):
    n = parallel.MIN_ITEMS + 40
    root = generate(n, tmp_path / "tree", seed=7)
    digests = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("DECKGEN_JOBS", jobs)
        project = load_project(root / "scenarios", root / "media")
        assert len(project.scenarios) == n
        path = build(project, BuildOptions(out_dir=tmp_path / f"out{jobs}")).path
        digests[jobs] = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digests["1"] == digests["2"]


def test_workers_report_problems_like_one_process(tmp_path, monkeypatch):
    root = generate(parallel.MIN_ITEMS + 10, tmp_path / "tree", seed=8)
    victim = sorted((root / "scenarios").glob("*/*.yaml"))[123]
    victim.write_text(victim.read_text().replace("difficulty: ", "difficulty: extreme #", 1))
    messages = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("DECKGEN_JOBS", jobs)
        with pytest.raises(DeckgenError) as info:
            load_project(root / "scenarios", root / "media")
        messages[jobs] = str(info.value)
    assert messages["1"] == messages["2"]
    assert messages["1"].endswith("difficulty: 'extreme' is not one of easy | medium | hard")
