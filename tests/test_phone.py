"""phone.py: what a bullet shows on the back, and how many lines that takes at 360 px."""

from __future__ import annotations

import pytest

from deckgen import phone
from deckgen.render import Renderer


@pytest.mark.parametrize(
    "bullet, shown",
    [
        ("Call [[`std::move`]] on the buffer", "Call std::move on the buffer"),
        ("Use [[a::b::c]] here", "Use a::b::c here"),
        ("Restart and watch a::b shows", "Restart and watch a::b shows"),  # no marker: cloze of it all
        ("Set [[max.poll.records|a consumer setting]] to 100", "Set max.poll.records to 100"),  # the hint is gone
    ],
)
def test_the_back_shows_the_text_own_colons_and_never_the_hint(bullet, shown):
    assert phone.visible_text(Renderer().cloze_bullet(bullet, 3)) == shown


def test_text_own_colons_count_towards_the_lines():
    long_path = "::".join(["segment"] * 12)
    assert phone.lines(Renderer().cloze_bullet(f"Use [[{long_path}]] ok", 3)) >= 3
