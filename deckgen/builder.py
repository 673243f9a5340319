"""The pipeline, load -> validate -> render -> notes -> package, as a Python API.

``load_project`` reads and validates a source tree and raises :class:`DeckgenError` with
every problem found; ``build`` renders everything in memory and only then writes one file,
atomically, so a failed run leaves the output folder exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deckgen import loader, model, notes, package
from deckgen.errors import DeckgenError, Problem
from deckgen.model import Project, Scenario
from deckgen.render import Renderer


def load_project(scenarios_dir: Path | str = "scenarios", media_dir: Path | str = "media") -> Project:
    """Read and validate a source tree; raise :class:`DeckgenError` listing every problem."""
    tree = loader.read_tree(Path(scenarios_dir))
    project, problems = model.validate_tree(tree, Path(media_dir))
    if problems or project is None:
        raise DeckgenError(problems or [Problem(str(scenarios_dir), None, "no deck could be read")])
    return project


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


def render_package(project: Project, options: BuildOptions) -> tuple[bytes, BuildResult]:
    """Everything up to the bytes of the .apkg, with no file written."""
    deck = project.deck
    for slug in options.categories:
        if slug not in {c.slug for c in deck.categories}:
            raise DeckgenError(Problem("--category", None, f"`{slug}` is not a category in deck.yaml"))
    chosen = select(project, options)
    if not chosen:
        raise DeckgenError(Problem("build", None, "no scenario matches the filters: nothing to build"))
    renderer = Renderer()
    specs = notes.build_notes(renderer, project, chosen, options.for_peers)
    description = notes.deck_description(renderer, deck, len(chosen), _label(project, options))
    decks = notes.genanki_decks(project, specs, description, options.tts)
    media = sorted({m for s in chosen for m in s.media})
    data = package.apkg_bytes(decks, [project.media_dir / m for m in media], deck.released)
    cards = 5 * len(chosen) + 2 * len(deck.buckets)
    result = BuildResult(
        path=Path(options.out_dir) / output_name(project, options),
        notes=len(specs),
        cards=cards,
        scenarios=len(chosen),
        categories=len({s.category for s in chosen}),
        guids=tuple(s.guid for s in specs),
    )
    return data, result


def build(project: Project, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Render the deck and write ``build/<slug>-v<version>.apkg`` atomically."""
    data, result = render_package(project, options)
    package.write_atomic(result.path, data)
    return result
