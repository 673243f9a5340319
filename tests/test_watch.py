"""watch.py: `deckgen preview --watch` serves on localhost, rebuilds on save, shows problems instead of stale cards."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

from deckgen import watch
from tests.conftest import scenario, small_tree

S = "scenarios/streaming-kafka/kafka-lag-after-deploy.yaml"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - our own server on 127.0.0.1
        return r.read().decode("utf-8")


def _until(predicate, seconds: float = 20.0):
    """Poll with a deadline: no sleep decides the outcome."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("the condition never held")


@pytest.fixture
def served(tmp_path):
    root = small_tree(tmp_path)
    stop, ready, lines = threading.Event(), [], []
    thread = threading.Thread(
        target=watch.serve,
        args=(root / "scenarios", root / "media", root / "build" / ".cache", 0),
        kwargs={"stop": stop, "on_ready": ready.append, "log": lines.append},
        daemon=True,
    )
    thread.start()
    url = _until(lambda: ready and ready[0])
    yield root, url, lines
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the server did not stop"


def test_a_saved_edit_shows_on_the_page(served):
    root, url, lines = served
    assert url.startswith("http://127.0.0.1:")
    page = _get(url + "notes/kafka-lag-after-deploy.html")
    assert "Roll back the release" in page and "/__deckgen/wait?v=" in page
    version = json.loads(_get(url + "__deckgen/wait?v=-1"))["version"]
    (root / S).write_text(scenario().replace("Roll back the release", "Roll back release 2.31"), encoding="utf-8")
    _until(lambda: "Roll back release 2.31" in _get(url + "notes/kafka-lag-after-deploy.html"))
    assert json.loads(_get(url + f"__deckgen/wait?v={version}"))["version"] > version  # the open tab reloads
    assert any(line.startswith("rebuilt after") for line in lines)


def test_a_broken_edit_shows_its_problem_instead_of_a_stale_card(served):
    root, url, lines = served
    (root / S).write_text(scenario(difficulty="extreme"), encoding="utf-8")
    expected = f"{root / S}:5: difficulty: &#x27;extreme&#x27; is not one of easy | medium | hard"
    page = _until(lambda: (p := _get(url + "notes/kafka-lag-after-deploy.html")) and "problem" in p and p)
    assert expected in page and "Roll back the release" not in page
    assert f"{root / S}:5: difficulty: 'extreme' is not one of easy | medium | hard" in lines
    (root / S).write_text(scenario(), encoding="utf-8")
    _until(lambda: "Roll back the release" in _get(url + "notes/kafka-lag-after-deploy.html"))


def test_only_the_preview_is_served(served):
    root, url, _ = served
    for path in ("../scenarios/deck.yaml", "%2e%2e/%2e%2e/etc/passwd", "notes/../../CHANGELOG.md"):
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(url + path)
        assert info.value.code == 404
