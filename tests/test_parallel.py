"""parallel.py: a deck big enough for worker processes gives the same bytes as one process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generate import generate
from deckgen import BuildOptions, DeckgenError, build, load_project, parallel
from tests.conftest import REPO


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


BUILD_AND_REPORT = """
import sys
from pathlib import Path
from deckgen import BuildOptions, build, charts, load_project
root = Path(sys.argv[1])
path = build(load_project(root / "scenarios", root / "media"), BuildOptions(out_dir=Path(sys.argv[2]))).path
print(charts.DRAWN[-1], charts.engine_running(), path)
"""


def test_charts_drawn_in_workers_give_the_same_package(tmp_path):
    """The bundled deck's charts (more than CHARTS_IN_WORKERS) are drawn in workers while the notes
    render, and the package is the one a single process makes. (A fresh process: a test process
    that has drawn charts itself never forks chart workers.)"""
    from deckgen import builder

    n = sum(len(s.charts) for s in load_project(REPO / "scenarios", REPO / "media").scenarios)
    assert n > builder.CHARTS_IN_WORKERS
    reports = {}
    for jobs in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", BUILD_AND_REPORT, str(REPO), str(tmp_path / jobs)],
            env={**os.environ, "DECKGEN_JOBS": jobs},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.split()
        reports[jobs] = (int(out[0]), out[1], hashlib.sha256(Path(out[2]).read_bytes()).hexdigest())
    assert reports["1"][:2] == (n, "True")  # one process: it drew every chart itself
    assert reports["2"][:2] == (n, "False")  # workers drew them all
    assert reports["2"][2] == reports["1"][2]


def test_a_process_whose_chart_engine_runs_draws_the_next_charts_itself(tmp_path, monkeypatch):
    """A watch session: after a build has drawn charts here, forking workers would hang on the
    engine's locks, so later builds draw in this process."""
    from deckgen import charts

    project = load_project(REPO / "scenarios", REPO / "media")
    charts.draw(next(c for s in project.scenarios for c in s.charts))
    assert charts.engine_running()
    monkeypatch.setenv("DECKGEN_JOBS", "4")
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", lambda *a, **k: pytest.fail("forked chart workers"))
    path = build(project, BuildOptions(out_dir=tmp_path / "out")).path
    assert charts.DRAWN[-1] == sum(len(s.charts) for s in project.scenarios)
    assert path.exists()
