"""The pipeline, load -> validate -> render -> notes -> package, as a Python API.

``load_project`` reads and validates a source tree and raises :class:`DeckgenError` with
every problem found; ``build`` renders everything in memory and only then writes one file,
atomically, so a failed run leaves the output folder exactly as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen import changelog as changelog_mod
from deckgen import loader, manifest, model, notes, package
from deckgen.errors import DeckgenError, Problem
from deckgen.model import Project, Scenario
from deckgen.render import Renderer


def load_project(
    scenarios_dir: Path | str = "scenarios",
    media_dir: Path | str = "media",
    changelog: Path | str | None = None,
) -> Project:
    """Read and validate a source tree; raise :class:`DeckgenError` listing every problem.

    ``changelog`` defaults to CHANGELOG.md beside the scenarios folder; its section for
    the deck's version, if any, goes on the deck's overview screen.
    """
    scenarios_dir = Path(scenarios_dir)
    tree = loader.read_tree(scenarios_dir)
    project, problems = model.validate_tree(tree, Path(media_dir))
    if problems or project is None:
        raise DeckgenError(problems or [Problem(str(scenarios_dir), None, "no deck could be read")])
    path = Path(changelog) if changelog is not None else scenarios_dir.parent / "CHANGELOG.md"
    try:
        text = path.read_text("utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise DeckgenError(Problem(str(path), None, f"cannot read the changelog: {exc}")) from None
    changes = changelog_mod.section(text, project.deck.version)
    return replace(project, changes=changes) if changes else project


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path = Path("build")
    categories: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    for_peers: bool = False
    tts: str | None = None


@dataclass(frozen=True)
class BuildResult:
    path: Path
    notes: int
    cards: int
    scenarios: int
    categories: int
    guids: tuple[str, ...] = field(default=(), repr=False)


def select(project: Project, options: BuildOptions) -> tuple[Scenario, ...]:
    """The scenarios a (possibly filtered) build keeps, in deck order."""
    return tuple(
        s
        for s in project.scenarios
        if (not options.categories or s.category in options.categories)
        and (not options.difficulties or s.difficulty in options.difficulties)
    )


def output_name(project: Project, options: BuildOptions) -> str:
    """``<slug>-v<version>.apkg``; filtered builds say what they kept and never clash with it."""
    deck = project.deck
    parts = [f"{deck.slug}-v{deck.version}"]
    order = [c.slug for c in deck.categories]
    parts += sorted(set(options.categories), key=order.index)
    parts += sorted(set(options.difficulties), key=model.DIFFICULTIES.index)
    if options.for_peers:
        parts.append("peers")
    if options.tts:
        parts.append("tts-" + options.tts.lower().replace("_", "-"))
    return "-".join(parts) + ".apkg"


def _label(project: Project, options: BuildOptions) -> str:
    kept = []
    if options.categories:
        kept.append(", ".join(project.deck.category(c).title for c in options.categories))
    if options.difficulties:
        kept.append("/".join(options.difficulties))
    if options.for_peers:
        kept.append("peers edition")
    return " · ".join(kept)


@dataclass(frozen=True)
class Prepared:
    """The rendered notes of a build and what they need, before any bytes are made."""

    specs: tuple[notes.NoteSpec, ...]
    description: str
    scenarios: tuple[Scenario, ...]
    media: tuple[Path, ...]


def prepare(project: Project, options: BuildOptions = BuildOptions()) -> Prepared:
    """Select and render every note of a build (pure: no file is read but media names)."""
    deck = project.deck
    for slug in options.categories:
        if slug not in {c.slug for c in deck.categories}:
            raise DeckgenError(Problem("--category", None, f"`{slug}` is not a category in deck.yaml"))
    chosen = select(project, options)
    if not chosen:
        raise DeckgenError(Problem("build", None, "no scenario matches the filters: nothing to build"))
    renderer = Renderer()
    specs = notes.build_notes(renderer, project, chosen, options.for_peers)
    description = notes.deck_description(renderer, deck, len(chosen), _label(project, options), project.changes)
    media = tuple(project.media_dir / m for m in sorted({m for s in chosen for m in s.media}))
    return Prepared(tuple(specs), description, chosen, media)


def render_package(project: Project, options: BuildOptions) -> tuple[bytes, BuildResult, dict]:
    """Everything up to the bytes of the .apkg and its manifest, with no file written."""
    deck = project.deck
    prepared = prepare(project, options)
    decks = notes.genanki_decks(project, list(prepared.specs), prepared.description, options.tts)
    data = package.apkg_bytes(decks, list(prepared.media), deck.released)
    chosen = prepared.scenarios
    path = Path(options.out_dir) / output_name(project, options)
    result = BuildResult(
        path=path,
        notes=len(prepared.specs),
        cards=5 * len(chosen) + 2 * len(deck.buckets),
        scenarios=len(chosen),
        categories=len({s.category for s in chosen}),
        guids=tuple(s.guid for s in prepared.specs),
    )
    record = manifest.make_manifest(project, options, prepared, path.name, hashlib.sha256(data).hexdigest())
    return data, result, record


def build(project: Project, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Render the deck and write ``build/<slug>-v<version>.apkg`` and its manifest atomically."""
    data, result, record = render_package(project, options)
    package.write_atomic(result.path, data)
    package.write_atomic(manifest.manifest_path(result.path), manifest.dumps(record))
    return result
