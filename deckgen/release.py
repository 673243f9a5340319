"""A release: the full deck, one subset per category and a peers edition, all checked.

Before anything is written the new build is compared with the last released manifest
(committed under ``releases/``): a release that would duplicate, skip or silently keep
old notes in users' collections is refused, and a released file is never overwritten
with different bytes. Then every file is written, the changelog section included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from deckgen import builder, changelog, diff, manifest, package
from deckgen.errors import DeckgenError, Problem


@dataclass(frozen=True)
class ReleaseResult:
    files: tuple[Path, ...]
    report: diff.Report | None
    changelog_written: bool


def _semver(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def last_release(releases_dir: Path, slug: str, below: str) -> dict | None:
    """The newest released full-deck manifest of ``slug`` older than version ``below``."""
    best = None
    if not releases_dir.is_dir():
        return None
    for path in sorted(releases_dir.glob(f"{slug}-v*.manifest.json")):
        record = manifest.read(path)
        version = record["deck"]["version"]
        if _semver(version) < _semver(below) and (best is None or _semver(version) > _semver(best["deck"]["version"])):
            best = record
    return best


def release(
    scenarios_dir: Path | str = "scenarios",
    media_dir: Path | str = "media",
    out_dir: Path | str = "build",
    releases_dir: Path | str = "releases",
    changelog_path: Path | str = "CHANGELOG.md",
) -> ReleaseResult:
    out_dir, releases_dir, changelog_path = Path(out_dir), Path(releases_dir), Path(changelog_path)
    project = builder.load_project(scenarios_dir, media_dir, changelog_path)
    deck = project.deck
    full = builder.BuildOptions(out_dir=out_dir)

    previous = last_release(releases_dir, deck.slug, deck.version)
    report = None
    if previous is not None:
        _, _, record = builder.render_package(project, full)
        report = diff.compare(previous, record)
        if report.problems:
            raise DeckgenError([Problem(str(releases_dir), None, f"against v{previous['deck']['version']}: {p}") for p in report.problems])

    text = changelog_path.read_text("utf-8") if changelog_path.is_file() else ""
    body = changelog.section(text, deck.version)
    if not body:
        if report is None:
            cats = len({s.category for s in project.scenarios})
            body = f"- First release: {len(project.scenarios)} scenarios in {cats} categories."
        else:
            body = diff.changelog_body(report, {s.id: s.title for s in project.scenarios})
    new_text = changelog.with_section(text, deck.version, deck.released.isoformat(), body)
    project = replace(project, changes=body)

    variants = [full]
    present = {s.category for s in project.scenarios}
    variants += [builder.BuildOptions(out_dir=out_dir, categories=(c.slug,)) for c in deck.categories if c.slug in present]
    variants.append(builder.BuildOptions(out_dir=out_dir, for_peers=True))

    outputs: list[tuple[Path, bytes]] = []
    released_record = None
    for options in variants:
        data, result, record = builder.render_package(project, options)
        outputs.append((result.path, data))
        outputs.append((manifest.manifest_path(result.path), manifest.dumps(record)))
        if options is full:
            released_record = record
    keep = releases_dir / f"{deck.slug}-v{deck.version}.manifest.json"
    outputs.append((keep, manifest.dumps(released_record)))

    clashes = []
    for path, data in outputs:
        if path.suffix == ".apkg" or path == keep:
            if path.is_file() and path.read_bytes() != data:
                clashes.append(Problem(str(path), None, "exists with different content: a released version is never rebuilt differently; bump `version` (and `released`) in deck.yaml, or delete the file if it was never published"))
    if clashes:
        raise DeckgenError(clashes)

    for path, data in outputs:
        package.write_atomic(path, data)
    wrote_changelog = new_text != text
    if wrote_changelog:
        package.write_atomic(changelog_path, new_text.encode("utf-8"))
    return ReleaseResult(tuple(p for p, _ in outputs), report, wrote_changelog)
