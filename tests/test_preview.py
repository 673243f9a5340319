"""The preview renders every card exactly as the anki package does after importing the build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from deckgen import BuildOptions, DeckgenError, build, load_project
from deckgen.cli import main
from deckgen.preview import render_site, render_template, reveal_clozes, search_index, write_preview
from tests.conftest import REPO, cli_args, import_apkg, new_collection, scenario, small_tree, snapshot

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="400"><rect width="1600" height="400" fill="#4a90d9"/></svg>'


def tricky(id: str = "tricky-markup") -> str:
    """Hints, Anki syntax written as text, MathJax-looking code, a table, code and an image."""
    text = scenario(id, media="[wide.svg]", story="'It paged me at 3am.'").replace(
        "    - Roll back the release\n",
        "    - 'Literal {{c9::x}} and std::string and [sound:a.mp3] stay text'\n"
        "    - '[[{{ ds \\| ds_nodash }}|airflow::macro]] is the partition'\n"
        "    - 'Escape `\\(` and `\\)` in the [[regex `\\[a\\]`|pattern]] & quote \"it\"'\n"
        "    - Ship it <b>now</b> · café “quoted” 😀\n",
    )
    text = text.replace("why: |\n", "why: |\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n\n")
    text += "references: [{title: 'Docs: {{c2::x}} & y', url: 'https://example.com/a?b=1&c=2'}]\n"
    return text + "code: {lang: python, source: \"print('{{c1::not a cloze}}')\\n\"}\n"


TRICKY_NOTES = (  # the notes of tricky_tree: two bucket notes, four scenarios
    "bucket--streaming",
    "bucket--batch-spark",
    "kafka-lag-after-deploy",
    "late-events-window",
    "gzip-one-task",
    "tricky-markup",
)


def tricky_tree(root: Path) -> Path:
    return small_tree(
        root,
        **{
            "scenarios/streaming-kafka/tricky-markup.yaml": tricky(),
            "media/wide.svg": SVG,
        },
    )


def _normalise(fragment: str) -> str:
    without_style = re.sub(r"<style>.*?</style>", "", fragment, flags=re.S)
    without_audio = re.sub(r"\[anki:play:[qa]:\d+\]", "", without_style)  # {{tts}}: a play button in Anki
    return re.sub(r"\s+", " ", without_audio).strip()


def _compare_with_anki(root: Path, options: BuildOptions, anki_dir: Path) -> int:
    project = load_project(root / "scenarios", root / "media")
    col = new_collection(anki_dir)
    try:
        import_apkg(col, build(project, options).path)
        site = render_site(project, options)
        compared = 0
        for note in site.notes:
            (nid,) = col.db.list("select id from notes where guid = ?", note.guid)
            anki_cards = {c.ord + 1: c for c in col.get_note(nid).cards()}
            assert sorted(anki_cards) == [c.ordinal for c in note.cards], note.key
            for card in note.cards:
                theirs = anki_cards[card.ordinal]
                question, answer = theirs.question(), theirs.answer()
                assert question.startswith(f"<style>{note.css}</style>")  # the CSS the page carries
                assert _normalise(card.question) == _normalise(question), (note.key, card.ordinal, "front")
                assert _normalise(card.answer) == _normalise(answer), (note.key, card.ordinal, "back")
                compared += 1
        page = site.pages[site.notes[-1].href]
        assert f"<style>{site.notes[-1].css}</style>" in page
        return compared
    finally:
        col.close()


@pytest.mark.parametrize("tts", [None, "en_US"])
def test_every_card_renders_as_anki_renders_it(tmp_path, tts):
    root = tricky_tree(tmp_path)
    compared = _compare_with_anki(root, BuildOptions(out_dir=root / "build", tts=tts), tmp_path / "anki")
    assert compared == 4 * 5 + 2 * 2


def test_filtered_peer_build_renders_as_anki_renders_it(tmp_path):
    root = tricky_tree(tmp_path)
    options = BuildOptions(out_dir=root / "build", categories=("streaming-kafka",), for_peers=True)
    assert _compare_with_anki(root, options, tmp_path / "anki") == 3 * 5 + 2 * 2


@pytest.mark.skipif(not (REPO / "scenarios" / "deck.yaml").is_file(), reason="no bundled deck")
def test_the_bundled_deck_renders_as_anki_renders_it(tmp_path):
    options = BuildOptions(out_dir=tmp_path / "build")
    project = load_project(REPO / "scenarios", REPO / "media")
    assert _compare_with_anki(REPO, options, tmp_path / "anki") == 5 * len(project.scenarios) + 2 * len(
        project.deck.buckets
    )


# Anki's own stock Cloze note type on field text we never generate: nesting, several
# ordinals, stray braces, escapes in data-cloze, MathJax, empty cards.
ODD_TEXTS = [
    "x {{c1::a\nb\t'\"&<>é·“😀 z_-.:;/=?%~`|\\^}} y {{c2::q::h<i>int</i>}} {{c1::nest {{c2::in}} out}}",
    "{{c1,2::both}} and {{c2::two::a::b}} }} stray {{c::no}} {{c1:one colon}}",
    "\\( {{c1::<b>x</b>}} \\) and \\[ <i>{{c2::y}}</i> \\]",
    "{{c3::only three}}",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_template_and_cloze_rendering_match_anki_on_the_stock_cloze_type(tmp_path, text):
    col = new_collection(tmp_path / "anki")
    try:
        model = col.models.by_name("Cloze")
        note = col.new_note(model)
        note["Text"], note["Back Extra"] = text, "<div><br></div>"  # empty to Anki: {{#}} must agree
        col.add_note(note, col.decks.id("Default"))
        template = model["tmpls"][0]
        fields = {"Text": note["Text"], "Back Extra": note["Back Extra"]}
        for card in note.cards():
            n = card.ord + 1
            question = render_template(template["qfmt"], fields, n)
            answer = render_template(template["afmt"], fields, n, front=question)
            assert _normalise(question) == _normalise(card.question())
            assert _normalise(answer) == _normalise(card.answer())
    finally:
        col.close()


def test_a_field_without_the_cards_cloze_renders_empty():
    assert reveal_clozes("no clozes here", 1, question=True) == ""
    assert reveal_clozes("{{c2::x}}", 1, question=False) == ""


def test_search_index_lists_every_note_and_the_index_links_every_page(tmp_path):
    root = tricky_tree(tmp_path)
    project = load_project(root / "scenarios", root / "media")
    site = render_site(project)
    index = search_index(site.notes)
    assert [e["key"] for e in index] == [n.key for n in site.notes]
    assert {e["key"] for e in index} == set(TRICKY_NOTES)
    tricky_entry = next(e for e in index if e["key"] == "tricky-markup")
    assert "rebalance loop" in tricky_entry["text"]  # hidden answers are searchable
    assert "{{ ds | ds_nodash }}" in tricky_entry["text"] and "streaming / kafka incidents" in tricky_entry["text"]
    page = site.pages["index.html"]
    for entry in index:
        assert f'data-key="{entry["key"]}"' in page and f'href="{entry["href"]}"' in page
        assert entry["href"] in site.pages


def test_preview_is_offline_and_copies_media(tmp_path):
    root = tricky_tree(tmp_path)
    result = write_preview(load_project(root / "scenarios", root / "media"), tmp_path / "out")
    assert result.index == tmp_path / "out" / "index.html" and result.notes == 6 and result.cards == 24
    files = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == sorted(["index.html", "notes/wide.svg"] + [f"notes/{k}.html" for k in TRICKY_NOTES])
    assert (tmp_path / "out" / "notes" / "wide.svg").read_bytes() == SVG
    for path in (tmp_path / "out").rglob("*.html"):
        text = path.read_text("utf-8")
        assert not re.search(
            r"""<(link|iframe|object|embed)\b|<script[^>]*\bsrc=|\bsrc=["']?(https?:)?//|@import|url\(""", text
        ), path
    page = (tmp_path / "out" / "notes" / "tricky-markup.html").read_text("utf-8")
    assert '<img src="wide.svg"' in page
    assert (
        page.count(
            '<a href="https://example.com/a?b=1&amp;c=2">Docs: &#123;&#123;c2&#58;&#58;x&#125;&#125; &amp; y</a>'
        )
        == 5
    )


def test_a_failed_preview_writes_nothing(tmp_path):
    root = tricky_tree(tmp_path)
    project = load_project(root / "scenarios", root / "media")
    out = tmp_path / "out"
    write_preview(project, out)
    before = snapshot(out)
    (root / "media" / "wide.svg").unlink()  # vanishes between validation and the copy
    with pytest.raises(DeckgenError, match="wide.svg"):
        write_preview(project, out)
    assert snapshot(out) == before


def test_cli_preview_writes_and_opens(tmp_path, monkeypatch):
    root = small_tree(tmp_path)
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    out = tmp_path / "site"
    result = CliRunner().invoke(main, cli_args("preview", root, out, "--open"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == str(out / "index.html")
    assert "5 notes, 19 cards" in result.output
    assert opened == [(out / "index.html").resolve().as_uri()]
    bad = CliRunner().invoke(main, ["preview", "--scenarios", str(tmp_path / "missing"), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 1 and not (tmp_path / "x").exists()


ATTACKS = (
    '<script>alert(1)</script><img src=x onerror=alert(2)><iframe src="https://example.com"></iframe>'
    "<object data=x></object><embed src=x><style>body{display:none}</style>"
    '<a href="JaVaScRiPt:alert(3)">a</a><a href="jav&#x09;ascript:alert(4)">b</a>'
    '<a href="data:text/html;base64,PHNjcmlwdD4=">c</a><p onclick="alert(5)">d</p>'
)


def test_active_content_never_reaches_a_preview_page(tmp_path):
    from deckgen import load_project
    from deckgen.builder import BuildOptions
    from deckgen.preview import write_preview

    attack = scenario("html-attack").replace("why: |\n", f"why: |\n  {ATTACKS}\n\n  A `<script>` in code stays text.\n")
    root = small_tree(tmp_path / "src", **{"scenarios/streaming-kafka/html-attack.yaml": attack})
    out = tmp_path / "site"
    write_preview(load_project(root / "scenarios", root / "media"), out, BuildOptions())
    page = (out / "notes" / "html-attack.html").read_text()
    benign = (out / "notes" / "kafka-lag-after-deploy.html").read_text()
    low = page.lower()
    assert low.count("<script") == benign.lower().count("<script")  # only the page's own switch script
    for bad in (
        "onerror",
        'onclick="alert',
        "javascript:",
        "jav&#x09;ascript",
        "data:text/html",
        "<iframe",
        "<object",
        "<embed",
        "display:none}",
    ):
        assert bad not in low, bad
    assert "&lt;script&gt;</code> in code stays text" in page


def test_a_preview_that_runs_out_of_space_leaves_the_old_one_whole(tmp_path):
    """A real file size limit (ulimit -f) in the middle of writing: the earlier preview stays as it was."""
    import subprocess
    import sys

    root = tricky_tree(tmp_path)
    run = [sys.executable, "-m", "deckgen", *cli_args("preview", root, tmp_path / "site")]
    subprocess.run(run, check=True, capture_output=True)
    before = snapshot(tmp_path / "site")
    (root / "scenarios/pipeline-failures/gzip-one-task.yaml").write_text(
        scenario("gzip-one-task", "pipeline-failures", "easy").replace("Roll back", "Revert")
    )
    limited = subprocess.run(["bash", "-c", 'ulimit -f 40 && exec "$@"', "limit", *run], capture_output=True, text=True)
    assert limited.returncode == 1 and "Traceback" not in limited.stderr, limited.stderr
    assert limited.stderr.strip().startswith(f"{tmp_path / 'site'}: cannot write the preview: ")
    assert limited.stderr.strip().endswith("; nothing was changed")
    assert snapshot(tmp_path / "site") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_a_page_that_cannot_be_replaced_stops_the_preview_before_any_write(tmp_path):
    root = tricky_tree(tmp_path)
    project = load_project(root / "scenarios", root / "media")
    write_preview(project, tmp_path / "site")
    blocker = tmp_path / "site" / "notes" / "tricky-markup.html"
    blocker.unlink()
    blocker.mkdir()  # something in the way of one page, found only at the end of the list
    (root / "scenarios/pipeline-failures/gzip-one-task.yaml").write_text(
        scenario("gzip-one-task", "pipeline-failures", "easy").replace("Roll back", "Revert")
    )
    before = snapshot(tmp_path / "site")
    with pytest.raises(DeckgenError) as info:
        write_preview(load_project(root / "scenarios", root / "media"), tmp_path / "site")
    assert str(info.value) == (
        f"{blocker}: is a folder or a link, not a file deckgen wrote: move it away or pass "
        "--out DIR; nothing was changed"
    )
    assert snapshot(tmp_path / "site") == before
