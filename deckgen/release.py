"""A release: the full deck, one subset per category and a peers edition, all checked.

Before anything is written the new build is compared with the last released manifest
(committed under ``releases/``): a release that would duplicate, skip or silently keep
old notes in users' collections is refused, and a released file is never overwritten
with different bytes. Then every file is written, the changelog section included.
"""

from __future__ import annotations

import re
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


def released(releases_dir: Path) -> list[tuple[Path, dict]]:
    """Every released manifest in ``releases_dir``, whatever its slug, oldest version first."""
    if not releases_dir.is_dir():
        return []
    found = []
    for path in sorted(releases_dir.glob("*.manifest.json")):
        record = manifest.read(path)
        version = (record.get("deck") or {}).get("version")
        if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise DeckgenError(
                Problem(
                    str(path),
                    None,
                    f"version {version!r} is not MAJOR.MINOR.PATCH: not a release manifest deckgen wrote",
                )
            )
        found.append((path, record))
    return sorted(found, key=lambda pr: _semver(pr[1]["deck"]["version"]))


def last_release(releases_dir: Path, slug: str, below: str) -> dict | None:
    """The newest released full-deck manifest of ``slug`` older than version ``below``."""
    return _newest_below(released(releases_dir), slug, below)


def _newest_below(history: list[tuple[Path, dict]], slug: str, below: str) -> dict | None:
    best = None
    for _, record in history:
        if record["deck"].get("slug") == slug and _semver(record["deck"]["version"]) < _semver(below):
            best = record
    return best


def _check_lineage(history: list[tuple[Path, dict]], slug: str, version: str) -> None:
    """A release continues the newest one: the same slug (every GUID comes from it), a version not below it."""
    if not history:
        return
    path, newest = history[-1]
    old_slug, old_version = newest["deck"].get("slug"), newest["deck"]["version"]
    if old_slug != slug:
        raise DeckgenError(
            Problem(
                str(path),
                None,
                f"the last release is `{old_slug}` {old_version} and deck.yaml "
                f"now says slug `{slug}`: every note would get a new GUID and users would get "
                "a duplicate of every card; restore the slug (a fork starts with an empty releases/)",
            )
        )
    if _semver(version) < _semver(old_version):
        raise DeckgenError(
            Problem(
                str(path),
                None,
                f"version {version} is below the last release {old_version}: "
                "a release moves forward; set a version above it in deck.yaml",
            )
        )


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

    history = released(releases_dir)  # read once: every manifest is parsed and checked
    _check_lineage(history, deck.slug, deck.version)
    previous = _newest_below(history, deck.slug, deck.version)
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
    variants.append(builder.BuildOptions(out_dir=out_dir, tts=deck.tts, release=True))  # for listening

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
            differs = s.result.path.is_file() and manifest.file_sha256(s.result.path) != s.sha256
            if differs and (released_before or builder.released_file(s.result.path)):
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

    pairs = [
        pair for s in staged for pair in ((s.apkg, s.result.path), (s.manifest, manifest.manifest_path(s.result.path)))
    ]
    package.commit_all(pairs + extra)  # every file of the release, or none
    files = [target for _, target in pairs] + [keep]
    return ReleaseResult(tuple(files), report, new_text != text)
