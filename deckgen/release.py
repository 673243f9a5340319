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


def _was_released(apkg: Path) -> bool:
    beside = manifest.manifest_path(apkg)
    try:
        return bool(manifest.read(beside).get("build", {}).get("release")) if beside.is_file() else True
    except DeckgenError:
        return True  # unknown origin: treat it as published


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
    full = builder.BuildOptions(out_dir=out_dir, release=True)

    previous = last_release(releases_dir, deck.slug, deck.version)
    report = None
    if previous is not None:
        report = diff.compare(previous, builder.manifest_of(project, full))
        if report.problems:
            raise DeckgenError(
                [
                    Problem(str(releases_dir), None, f"against v{previous['deck']['version']}: {p}")
                    for p in report.problems
                ]
            )

    text = changelog_path.read_text("utf-8") if changelog_path.is_file() else ""
    body = changelog.section(text, deck.version)
    if not body:
        if report is None:
            cats = len({s.category for s in project.scenarios})
            body = f"- First release: {len(project.scenarios)} scenarios in {cats} categories."
        else:
            titles = {s.id: s.title for s in project.scenarios}
            titles.update({f"bucket:{b.slug}": b.title for b in deck.buckets})
            body = diff.changelog_body(report, titles)
    new_text = changelog.with_section(text, deck.version, deck.released.isoformat(), body)
    project = replace(project, changes=body)

    variants = [full]
    present = {s.category for s in project.scenarios}
    variants += [
        builder.BuildOptions(out_dir=out_dir, categories=(c.slug,), release=True)
        for c in deck.categories
        if c.slug in present
    ]
    variants.append(builder.BuildOptions(out_dir=out_dir, for_peers=True, release=True))

    staged: list[builder.Staged] = []
    extra: list[tuple[Path, Path]] = []  # (temporary file, target)
    try:
        for options in variants:
            staged.append(builder.stage(project, options))
        keep = releases_dir / f"{deck.slug}-v{deck.version}.manifest.json"
        kept = manifest.dumps(staged[0].record)
        extra.append((package.stage_bytes(keep, kept), keep))
        if new_text != text:
            extra.append((package.stage_bytes(changelog_path, new_text.encode("utf-8")), changelog_path))

        # A plain `deckgen build` of this version may be overwritten; a released file may not.
        released_before = keep.is_file()
        clashes = []
        for s in staged:
            if s.result.path.is_file() and builder.file_sha256(s.result.path) != s.sha256:
                if released_before or _was_released(s.result.path):
                    clashes.append(s.result.path)
        if keep.is_file() and keep.read_bytes() != kept:
            clashes.append(keep)
        if clashes:
            raise DeckgenError(
                [
                    Problem(
                        str(p),
                        None,
                        "exists with different content: a released version is never rebuilt differently; "
                        "bump `version` (and `released`) in deck.yaml, or delete the file if it was never published",
                    )
                    for p in clashes
                ]
            )
    except BaseException:
        for s in staged:
            s.discard()
        for tmp, _ in extra:
            package.discard(tmp)
        raise

    files: list[Path] = []
    for s in staged:
        s.commit()
        files += [s.result.path, manifest.manifest_path(s.result.path)]
    for tmp, target in extra:
        package.commit(tmp, target)
    files.append(keep)
    return ReleaseResult(tuple(files), report, new_text != text)
