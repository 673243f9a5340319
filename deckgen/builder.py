"""The pipeline, load -> validate -> render -> notes -> package, as a Python API.

``load_project`` reads and validates a source tree and raises :class:`DeckgenError` with
every problem found; ``build`` streams the rendered notes into temporary files beside the
output and renames them into place only when everything succeeded, so a failed run leaves
the output folder exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from deckgen import changelog as changelog_mod
from deckgen import charts, loader, manifest, model, notes, package, parallel
from deckgen.cache import Cache
from deckgen.errors import DeckgenError, Problem
from deckgen.model import Project, Scenario
from deckgen.render import Renderer


def load_project(
    scenarios_dir: Path | str = "scenarios",
    media_dir: Path | str = "media",
    changelog: Path | str | None = None,
    cache_dir: Path | str | None = None,
) -> Project:
    """Read and validate a source tree; raise :class:`DeckgenError` listing every problem.

    ``changelog`` defaults to CHANGELOG.md beside the scenarios folder; its section for
    the deck's version, if any, goes on the deck's overview screen. ``cache_dir`` keeps
    validated and rendered scenarios between builds (see :mod:`deckgen.cache`).
    """
    scenarios_dir = Path(scenarios_dir)
    tree = loader.read_tree(scenarios_dir)
    path = Path(changelog) if changelog is not None else scenarios_dir.parent / "CHANGELOG.md"
    text, changelog_problem = _read_changelog(path)
    store = Cache(Path(cache_dir)) if cache_dir is not None else None
    project, problems = model.validate_tree(tree, Path(media_dir), store)
    problems += [changelog_problem] if changelog_problem else []
    if problems or project is None:
        if store is not None:
            store.discard()
        raise DeckgenError(problems or [Problem(str(scenarios_dir), None, "no deck could be read")])
    changes = changelog_mod.section(text, project.deck.version)
    return replace(project, changes=changes) if changes else project


def _read_changelog(path: Path) -> tuple[str, Problem | None]:
    if path.is_symlink():
        return "", Problem(str(path), None, "is a link: the changelog must be a plain file beside the scenarios")
    try:
        return (path.read_text("utf-8") if path.is_file() else ""), None
    except (OSError, UnicodeDecodeError) as exc:
        return "", Problem(str(path), None, f"cannot read the changelog: {exc}")


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path = Path("build")
    categories: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    for_peers: bool = False
    tts: str | None = None
    release: bool = False  # made by `deckgen release`: such files are never overwritten with other bytes


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
    media: dict[str, Path | bytes]  # name in the package -> a file of media/, or a drawn chart


def _choose(project: Project, options: BuildOptions) -> tuple[Scenario, ...]:
    deck = project.deck
    for slug in options.categories:
        if slug not in {c.slug for c in deck.categories}:
            raise DeckgenError(Problem("--category", None, f"`{slug}` is not a category in deck.yaml"))
    chosen = select(project, options)
    if not chosen:
        raise DeckgenError(Problem("build", None, "no scenario matches the filters: nothing to build"))
    return chosen


_RENDER_STATE: dict = {}


def _setup_render(deck, for_peers: bool) -> None:
    _RENDER_STATE.update(deck=deck, for_peers=for_peers, renderer=Renderer())


def _render(s: Scenario) -> tuple[str, ...]:
    """One scenario's fields (runs in a worker for large decks, with that worker's renderer)."""
    st = _RENDER_STATE
    return notes.scenario_fields(st["renderer"], st["deck"], s, st["for_peers"])


def iter_specs(project: Project, chosen: tuple[Scenario, ...], options: BuildOptions, renderer: Renderer):
    """Every note of the build in order, rendered in batches across cores or taken from the cache."""
    deck = project.deck
    yield from notes.bucket_specs(renderer, deck, chosen)
    cache = project.cache
    # Workers start only for batches with enough cache misses to be worth it.
    with parallel.Mapper(_setup_render, (deck, options.for_peers), len(chosen)) as mapper:
        for batch in parallel.batched(chosen, 256):
            todo = []
            fields: dict[int, tuple[str, ...]] = {}
            for i, s in enumerate(batch):
                got = (
                    cache.fields(_fields_key(s, options), len(notes.SCENARIO_FIELDS))
                    if cache is not None and s.digest
                    else None
                )
                if got is None:
                    todo.append(i)
                else:
                    fields[i] = got
            for i, rendered in zip(todo, mapper.map(_render, [batch[i] for i in todo]), strict=False):
                fields[i] = rendered
                if cache is not None and batch[i].digest:
                    cache.put_fields(_fields_key(batch[i], options), rendered)
            for i, s in enumerate(batch):
                yield notes.scenario_spec(deck, s, fields[i])


def _fields_key(s: Scenario, options: BuildOptions) -> str:
    return f"{s.digest}:{int(options.for_peers)}"


def start_media(project: Project, chosen: tuple[Scenario, ...]) -> Callable[[], dict[str, Path | bytes]]:
    """Begin drawing the charts neither this project nor the cache holds (in workers, while the
    caller renders notes).

    Returns a function that waits for them and gives every media file of the build, by name:
    the scenarios' own, then both drawings of every chart.
    """
    media: dict[str, Path | bytes] = {m: project.media_dir / m for s in chosen for m in s.media}
    todo: dict[str, charts.Chart] = {}  # by digest

    def add(chart: charts.Chart, svg: str) -> None:
        light, dark = chart.names()
        media[light], media[dark] = svg.encode("utf-8"), charts.night(svg).encode("utf-8")

    for s in chosen:
        for chart in s.charts:
            digest = chart.digest()
            if chart.names()[0] in media:  # a file of media/ by that name stands (as before charts)
                continue
            svg = project.drawn.get(digest) or (project.cache.chart(digest) if project.cache is not None else None)
            if svg is not None:
                project.drawn[digest] = svg
                add(chart, svg)
            else:
                todo[digest] = chart
    # Workers fork from this process: never once its own chart engine runs (they would hang).
    drawn = parallel.start(
        charts.draw, list(todo.values()), min_items=CHARTS_IN_WORKERS, fork=not charts.engine_running()
    )

    def finish() -> dict[str, Path | bytes]:
        for (digest, chart), svg in zip(todo.items(), drawn(), strict=True):
            project.drawn[digest] = svg
            add(chart, svg)
            if project.cache is not None:
                project.cache.put_chart(digest, svg)
        charts.DRAWN.append(len(todo))
        return dict(sorted(media.items()))

    return finish


CHARTS_IN_WORKERS = 4  # fewer are drawn here: starting a second engine costs ~0.45 s


def prepare(project: Project, options: BuildOptions = BuildOptions()) -> Prepared:
    """Select and render every note of a build, in memory (the preview's view of a build)."""
    chosen = _choose(project, options)
    renderer = Renderer()
    media = start_media(project, chosen)  # charts are drawn in workers while the notes are rendered
    specs = tuple(iter_specs(project, chosen, options, renderer))
    description = notes.deck_description(renderer, project.deck, len(chosen), _label(project, options), project.changes)
    return Prepared(specs, description, chosen, media())


@dataclass(frozen=True)
class Staged:
    """A build written to temporary files beside its targets, not yet in place."""

    apkg: Path
    manifest: Path
    result: BuildResult
    record: dict
    sha256: str

    def commit(self) -> None:
        """The package and its manifest into place together: both new, or both as they were."""
        package.commit_all([(self.apkg, self.result.path), (self.manifest, manifest.manifest_path(self.result.path))])

    def discard(self) -> None:
        package.discard(self.apkg)
        package.discard(self.manifest)


def stage(project: Project, options: BuildOptions = BuildOptions(), progress=None) -> Staged:
    """Render and package a build into temporary files; nothing visible changes yet.

    ``progress``, if given, is called with the number of notes written so far.
    """
    deck = project.deck
    chosen = _choose(project, options)
    renderer = Renderer()
    description = notes.deck_description(renderer, deck, len(chosen), _label(project, options), project.changes)
    media = start_media(project, chosen)  # charts are drawn in workers while the notes are rendered
    note_models = notes.models(options.tts)
    decks = notes.deck_objects(project, {s.category for s in chosen}, description)
    entries: list[str] = []  # manifest lines, as text: a dict per note would cost ~3 KB each
    guids: list[str] = []

    def stream():
        for spec in iter_specs(project, chosen, options, renderer):
            entries.append(manifest.entry_text(_entry(deck, spec)))
            guids.append(spec.guid)
            if progress is not None:
                progress(len(entries))
            yield decks[spec.deck_key].deck_id, notes.to_note(spec, note_models)

    path = Path(options.out_dir) / output_name(project, options)
    try:
        mtime = manifest.model_mtime(deck.released, options.tts)
        staged_apkg = package.stage_apkg(
            path, list(decks.values()), list(note_models.values()), stream(), media, deck.released, mtime
        )
    except BaseException:
        if project.cache is not None:
            project.cache.discard()
        raise
    try:
        if project.cache is not None:
            project.cache.save()
        sha = manifest.file_sha256(staged_apkg)
        result = BuildResult(
            path=path,
            notes=len(entries),
            cards=5 * len(chosen) + 2 * len(deck.buckets),
            scenarios=len(chosen),
            categories=len({s.category for s in chosen}),
            guids=tuple(guids),
        )
        record = manifest.make_manifest(project, options, entries, path.name, sha)
        staged_manifest = package.stage_bytes(manifest.manifest_path(path), manifest.dumps(record))
    except BaseException:
        package.discard(staged_apkg)
        raise
    return Staged(staged_apkg, staged_manifest, result, record, sha)


def _entry(deck, spec: notes.NoteSpec) -> dict:
    names = notes.SCENARIO_FIELDS if spec.model == "scenario" else notes.BUCKET_FIELDS
    return manifest.note_entry(
        spec.model, spec.guid, dict(zip(names, spec.fields, strict=False)), list(spec.tags), deck.tag_root
    )


def specs(project: Project, options: BuildOptions = BuildOptions()) -> Iterator[notes.NoteSpec]:
    """Every note of a build, rendered, without its media or package (for manifests and suggestions)."""
    return iter_specs(project, _choose(project, options), options, Renderer())


def manifest_of(project: Project, options: BuildOptions = BuildOptions()) -> dict:
    """The manifest a build would have, without packaging it (no .apkg hash)."""
    entries = [_entry(project.deck, spec) for spec in specs(project, options)]
    return manifest.make_manifest(project, options, entries, output_name(project, options), None)


def released_file(apkg: Path) -> bool:
    """Whether ``apkg`` was made by `deckgen release` (its manifest says so), or is of unknown origin."""
    beside = manifest.manifest_path(apkg)
    if not beside.is_file():
        return True  # no manifest: not a build of ours to replace
    try:
        return bool((manifest.read(beside).get("build") or {}).get("release"))
    except DeckgenError:
        return True


def build(project: Project, options: BuildOptions = BuildOptions(), progress=None) -> BuildResult:
    """Render the deck and put ``build/<slug>-v<version>.apkg`` and its manifest in place.

    A released file is never replaced by a plain build: with the same bytes it stays as it
    is (manifest included); with other bytes the build is refused and nothing changes.
    """
    staged = stage(project, options, progress)
    target = staged.result.path
    try:
        package.check_target(target)
        package.check_target(manifest.manifest_path(target))
    except DeckgenError:
        staged.discard()
        raise
    if not options.release and target.is_file() and released_file(target):
        staged.discard()
        if manifest.file_sha256(target) == staged.sha256:
            return staged.result
        raise DeckgenError(
            Problem(
                str(target),
                None,
                "is a released file (or one deckgen did not write) and this "
                "build differs from it: a released version is never rebuilt differently; build "
                "into another --out, or bump `version` (and `released`) in deck.yaml",
            )
        )
    staged.commit()
    return staged.result
