"""The afternoon version: the minimal program a user could write for the same deck.

yaml.CSafeLoader, one reused markdown.Markdown with fenced code and codehilite, genanki
cloze notes with the same five clozes, tags and subdecks, ``write_to_file``. No
validation, no sanitising, no determinism. deckgen's cost is measured against this.

    python bench/baseline.py SOURCE_TREE OUT.apkg
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import genanki
import markdown
import yaml

MODEL = genanki.Model(
    1607392319,
    "Baseline Cloze",
    fields=[{"name": "Text"}, {"name": "Back Extra"}],
    templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<hr>{{Back Extra}}"}],
    model_type=genanki.Model.CLOZE,
)
MARK = re.compile(r"\[\[(.+?)\]\]")


def main(root: Path, out: Path) -> None:
    md = markdown.Markdown(extensions=["fenced_code", "codehilite"])

    def render(text: str) -> str:
        md.reset()
        return md.convert(text)

    deck_info = yaml.load((root / "scenarios" / "deck.yaml").read_text(), Loader=yaml.CSafeLoader)
    decks = {}
    for i, cat in enumerate(deck_info["categories"], start=1):
        decks[cat["slug"]] = genanki.Deck(2000000000 + i, f"{deck_info['title']}::{i:02d} {cat['title']}")
    for path in sorted((root / "scenarios").glob("*/*.yaml")):
        s = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        parts = [f"<p>{{{{c1::{', '.join(s['buckets'])}}}}}</p>"]
        parts.append("<ul>" + "".join(f"<li>{{{{c2::{render(c)}}}}}</li>" for c in s["concepts"]) + "</ul>")
        for n, section in ((3, "immediate"), (4, "preventive"), (5, "communication")):
            items = []
            for b in s["answer"][section]:
                html = render(b)
                items.append(
                    MARK.sub(lambda m, n=n: f"{{{{c{n}::{m.group(1)}}}}}", html)
                    if "[[" in b
                    else f"{{{{c{n}::{html}}}}}"
                )
            parts.append("<ul>" + "".join(f"<li>{x}</li>" for x in items) + "</ul>")
        text = render(s["situation"]) + "".join(parts)
        back = render(s.get("why", ""))
        back += "".join(render(p) for p in s.get("pitfalls", []))
        back += "".join(render(q) for q in s.get("follow_ups", []))
        if s.get("code"):
            back += render(f"```{s['code']['lang']}\n{s['code']['source']}```")
        tags = [f"wte::category::{s['category']}", f"wte::difficulty::{s['difficulty']}"] + [
            f"wte::bucket::{b}" for b in s["buckets"]
        ]
        decks[s["category"]].add_note(
            genanki.Note(model=MODEL, fields=[text, back], tags=tags, guid=genanki.guid_for(s["id"]))
        )
    genanki.Package(list(decks.values())).write_to_file(str(out))


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
