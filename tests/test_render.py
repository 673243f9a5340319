"""render.py: markers, cloze escaping and sanitising, as strings (Anki proves them again)."""

from __future__ import annotations

import pytest

from deckgen.render import Marker, MarkerError, Renderer, cloze, escape_anki, parse_markers


@pytest.fixture(scope="module")
def r():
    return Renderer()


@pytest.mark.parametrize(
    "text,parts",
    [
        ("plain", ["plain"]),
        ("a [[b]] c", ["a ", Marker("b", None), " c"]),
        ("[[b|hint]]", [Marker("b", "hint")]),
        ("[[a \\| b|c]]", [Marker("a | b", "c")]),
        ("[[{{ ds \\| ds_nodash }}]]", [Marker("{{ ds | ds_nodash }}", None)]),
        ("`df[['a']]` then [[x]]", ["`df[['a']]` then ", Marker("x", None)]),
        ("``a ` [[b]]`` [[c]]", ["``a ` [[b]]`` ", Marker("c", None)]),
        ("[[`cfg]]x`|k]]", [Marker("`cfg]]x`", "k")]),
        ("\\[[not a marker", ["\\[[not a marker"]),
        ("[[a|]]", [Marker("a", None)]),
        ("`unclosed [[x]]", ["`unclosed ", Marker("x", None)]),
    ],
)
def test_parse_markers(text, parts):
    assert parse_markers(text) == parts


@pytest.mark.parametrize(
    "text,message",
    [
        ("[[open", "unclosed [[ marker"),
        ("[[]]", "empty [[ ]] marker"),
        ("[[ |hint]]", "empty [[ ]] marker"),
        ("[[a [[b]] ]]", "markers cannot nest"),
        ("close]] only", "]] without an opening [["),
    ],
)
def test_bad_markers(text, message):
    with pytest.raises(MarkerError) as info:
        parse_markers(text)
    assert message in str(info.value)


def test_marked_bullet_hides_only_the_phrase(r):
    out = r.cloze_bullet("Check the [[rebalance loop|symptom]] with `kafka-consumer-groups`", 3)
    assert out == "Check the {{c3::rebalance loop::symptom}} with <code>kafka-consumer-groups</code>"


def test_unmarked_bullet_is_hidden_whole(r):
    assert r.cloze_bullet("Roll back **now**", 4) == "{{c4::Roll back <strong>now</strong>}}"


def test_cloze_syntax_in_input_is_inert(r):
    out = r.cloze_bullet("[[{{ ds \\| ds_nodash }}|jinja::macro]] and {{c9::x}} std::map", 3)
    assert out.count("{{c") == 1 and "c9" not in out.replace("c9&#58;", "")
    assert out.startswith("{{c3::&#123;&#123; ds | ds_nodash &#125;&#125;::jinja&#58;&#58;macro}}")
    assert "&#123;&#123;c9&#58;&#58;x&#125;&#125; std&#58;&#58;map" in out


def test_colon_at_phrase_end_cannot_shift_the_hint(r):
    assert r.cloze_bullet("[[ratio:|h]]", 1) == "{{c1::ratio&#58;::h}}"


def test_escape_anki_outside_cloze_keeps_single_colons():
    assert escape_anki("a: b :: c {x} [sound:y.mp3]") == "a: b &#58;&#58; c &#123;x&#125; &#91;sound:y.mp3]"


def test_cloze_helper_escapes_hint_html():
    assert cloze("x", 2, "<b>") == "{{c2::x::&lt;b&gt;}}"


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        "<iframe src=https://evil></iframe>",
        "<object data=x></object>",
        "<embed src=x>",
        "<style>body{display:none}</style>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<svg onload=alert(1)>",
        '<p onclick="alert(1)">x</p>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    ],
)
def test_sanitiser_removes_active_content(r, attack):
    for out in (r.block(attack), r.inline(attack), r.cloze_bullet(attack, 3)):
        low = out.lower()
        for bad in (
            "<script",
            "javascript",
            "onerror",
            "onload",
            "onclick",
            "<iframe",
            "<object",
            "<embed",
            "<style",
            "style=",
            "data:",
            "<svg",
            "<math",
        ):
            assert bad not in low, (attack, out)


def test_code_spans_show_html_as_text(r):
    assert r.inline("`<script>alert(1)</script>`") == "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"


def test_markdown_features(r):
    out = r.block("**b** *i*\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n```sql\nSELECT 1\n```\n\n- x\n- y")
    assert "<strong>b</strong>" in out and "<em>i</em>" in out
    assert "<table>" in out and 'align="right"' in out
    assert '<div class="highlight"><pre>' in out and '<span class="k">SELECT</span>' in out
    assert "<ul>" in out


def test_links_keep_safe_schemes_only(r):
    out = r.inline("[docs](https://kafka.apache.org/documentation/) [m](mailto:a@b.c)")
    assert 'href="https://kafka.apache.org/documentation/"' in out and 'href="mailto:a@b.c"' in out
    assert 'rel="noopener noreferrer"' in out


def test_fast_path_matches_markdown(r):
    for text in ("Plain words, numbers 42 and (parens).", "Tell finance by 09:30 UTC", "Rerun it - safely"):
        r._md.reset()
        assert r.inline(text) == escape_anki(r._md.convert(text)[3:-4])


def test_code_highlighting_is_escaped(r):
    out = r.code("SELECT '{{ ds }}' AS d; -- std::x", "sql")
    assert "{{" not in out and "::" not in out and '<span class="k">SELECT</span>' in out
