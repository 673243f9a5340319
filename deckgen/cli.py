"""The command line: a thin layer that maps options onto :mod:`deckgen.build`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path

import click

from deckgen import builder as api
from deckgen._version import __version__
from deckgen.errors import DeckgenError, Problem
from deckgen.model import DIFFICULTIES
from deckgen.stats import stats_report

SCENARIOS = click.option(
    "--scenarios",
    "scenarios_dir",
    type=click.Path(path_type=Path),
    default="scenarios",
    show_default=True,
    help="Folder holding deck.yaml and <category>/<id>.yaml.",
)
RELEASES = click.option(
    "--releases",
    "releases_dir",
    type=click.Path(path_type=Path),
    default="releases",
    show_default=True,
    help="Where released manifests are kept (commit them).",
)
MEDIA = click.option(
    "--media",
    "media_dir",
    type=click.Path(path_type=Path),
    default="media",
    show_default=True,
    help="Folder of images the scenarios name.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Build Anki decks of production data-engineering scenarios."""


@main.command()
@SCENARIOS
@MEDIA
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default="build",
    show_default=True,
    help="Where the .apkg goes.",
)
@click.option("--category", "categories", multiple=True, metavar="SLUG", help="Keep only this category (repeatable).")
@click.option(
    "--difficulty",
    "difficulties",
    multiple=True,
    type=click.Choice(DIFFICULTIES),
    help="Keep only this difficulty (repeatable).",
)
@click.option("--for-peers", is_flag=True, help="Leave out every `story` (for sharing).")
@click.option(
    "--tts", metavar="LANG", default=None, help="Let Anki read the situation aloud with the phone's voice, e.g. en_US."
)
@click.option("--no-cache", is_flag=True, help="Ignore and do not update the render cache in <out>/.cache.")
def build(scenarios_dir, media_dir, out_dir, categories, difficulties, for_peers, tts, no_cache) -> None:
    """Build build/<slug>-v<version>.apkg from the scenarios."""
    if tts is not None and not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", tts):
        raise click.BadParameter("a language code like en_US or de", param_hint="--tts")
    started = time.perf_counter()
    cache_dir = None if no_cache else Path(out_dir) / ".cache"
    project = api.load_project(scenarios_dir, media_dir, cache_dir=cache_dir)
    try:
        result = _build(project, out_dir, categories, difficulties, for_peers, tts)
    except BaseException:
        if project.cache is not None:
            project.cache.discard()  # a failed build leaves the output folder as it was
        raise
    took = time.perf_counter() - started
    click.echo(str(result.path))
    click.echo(
        f"{result.notes} notes ({result.scenarios} scenarios, {result.notes - result.scenarios} buckets), "
        f"{result.cards} cards, {result.categories} categories in {took:.1f}s"
    )


@main.command()
@SCENARIOS
@MEDIA
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default="build/preview",
    show_default=True,
    help="Where the HTML preview goes.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in the web browser.")
@click.option("--watch", is_flag=True, help="Serve it on localhost, rebuild on every save and reload the open tab.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="With --watch: the port on 127.0.0.1 (0 picks a free one).",
)
def preview(scenarios_dir, media_dir, out_dir, open_browser, watch, port) -> None:
    """Write a static HTML preview of every card, front and back, as Anki shows it."""
    import webbrowser

    if watch:
        from deckgen import watch as live

        with contextlib.suppress(KeyboardInterrupt):
            live.serve(
                scenarios_dir,
                media_dir,
                Path(out_dir) / ".cache",
                port,
                on_ready=webbrowser.open if open_browser else None,
                log=click.echo,
            )
        click.echo("stopped")
        return
    from deckgen.preview import write_preview

    started = time.perf_counter()
    result = write_preview(api.load_project(scenarios_dir, media_dir), out_dir)
    click.echo(str(result.index))
    click.echo(f"{result.notes} notes, {result.cards} cards in {time.perf_counter() - started:.1f}s")
    if open_browser:
        webbrowser.open(result.index.resolve().as_uri())


def _build(project, out_dir, categories, difficulties, for_peers, tts):
    known = [c.slug for c in project.deck.categories]
    for slug in categories:
        if slug not in known:
            raise click.BadParameter(
                f"`{slug}` is not a category in deck.yaml (known: {', '.join(known)})", param_hint="--category"
            )
    options = api.BuildOptions(
        out_dir=out_dir,
        categories=tuple(dict.fromkeys(categories)),
        difficulties=tuple(dict.fromkeys(difficulties)),
        for_peers=for_peers,
        tts=tts,
    )
    total = len(api.select(project, options)) + len(project.deck.buckets)
    if total < 500 or not sys.stderr.isatty() or os.environ.get("CI"):
        return api.build(project, options)
    with click.progressbar(length=total, label="Writing notes", file=sys.stderr) as bar:
        done = [0]

        def advance(n: int) -> None:
            bar.update(n - done[0])
            done[0] = n

        return api.build(project, options, advance)


FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
    help="text for people, github for pull-request annotations, json for tools.",
)


@contextlib.contextmanager
def _problems_as(fmt: str):
    """Problems raised inside, in the chosen format: text as every command prints them (stderr),
    github or json on stdout (tools read it), then exit 1."""
    try:
        yield
    except DeckgenError as exc:
        if fmt == "text":
            raise
        _problems_out(exc.problems, fmt)
        raise SystemExit(1) from None


def _problems_out(problems, fmt: str) -> None:
    """Problems as github annotations or JSON."""
    from deckgen.lint import github_line

    if fmt == "json":
        click.echo(
            json.dumps(
                {"ok": False, "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in problems]},
                indent=1,
                ensure_ascii=False,
            )
        )
    else:
        for p in problems:
            click.echo(github_line(p.path, p.line, p.message, "error"))


@main.command()
@SCENARIOS
@MEDIA
@FORMAT
def validate(scenarios_dir, media_dir, fmt) -> None:
    """Check every file against the format; print each problem as path:line: message."""
    with _problems_as(fmt):
        project = api.load_project(scenarios_dir, media_dir)
    if fmt == "json":
        click.echo(json.dumps({"ok": True, "problems": [], "scenarios": len(project.scenarios)}))
        return
    click.echo(
        f"ok: {len(project.scenarios)} scenarios, {len(project.deck.categories)} categories, "
        f"{len(project.deck.buckets)} buckets"
    )


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@SCENARIOS
@MEDIA
@click.option("--select", metavar="CODES", help="Only these rules: codes or prefixes, comma-separated (DG101,DG2).")
@click.option("--ignore", metavar="CODES", help="Leave out these rules (codes or prefixes, comma-separated).")
@FORMAT
@click.option("--strict", is_flag=True, help="Exit 1 when any finding remains (CI); without it lint only advises.")
def lint(files, scenarios_dir, media_dir, select, ignore, fmt, strict) -> None:
    """Check the cards against the content standard: one line per finding, path:line: CODE message.

    With FILES, only findings in those files are shown (the whole deck is still read).
    """
    from deckgen import lint as rules

    try:
        chosen = rules.parse_codes(select, "--select")
        left_out = rules.parse_codes(ignore, "--ignore")
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    with _problems_as(fmt):
        report = rules.lint(scenarios_dir, media_dir, chosen, left_out, tuple(files))
    click.echo(rules.format_report(report, fmt))
    if strict and report.findings:
        raise SystemExit(1)


@main.command()
@SCENARIOS
@MEDIA
def stats(scenarios_dir, media_dir) -> None:
    """Scenarios per category against targets, per difficulty and per bucket."""
    click.echo(stats_report(api.load_project(scenarios_dir, media_dir)))


SKELETON = """\
# yaml-language-server: $schema=../../deckgen/schema/scenario.schema.json
id: {id}
title: TODO a headline, under 70 characters
category: {category}
buckets: [{bucket}]                # 1-3 bucket slugs from deck.yaml; the first is the primary
difficulty: medium                 # easy | medium | hard
situation: |
  TODO what the interviewer says and what you see: the alert, the numbers, the stack.
concepts:
  - TODO first concept
  - TODO second concept
answer:
  immediate:
    - 'TODO [[key phrase]] of the first thing you do'
  preventive:
    - 'TODO [[key phrase]] of the change that removes the cause'
  communication:
    - 'TODO who you tell, the [[business impact]], the ETA and the next update'
why: |
  TODO the trade-offs a senior engineer weighs.
pitfalls:
  - 'TODO what weak answers get wrong'
follow_ups:
  - 'TODO what the interviewer asks next'
added: {version}
"""


@main.command()
@click.argument("category")
@click.argument("scenario_id", metavar="ID")
@SCENARIOS
def new(category, scenario_id, scenarios_dir) -> None:
    """Write a scenario skeleton to <scenarios>/CATEGORY/ID.yaml."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", scenario_id):
        raise click.BadParameter(
            "lower-case letters, digits and single hyphens, like kafka-lag-after-deploy", param_hint="ID"
        )
    from deckgen import loader, model

    tree = loader.read_tree(Path(scenarios_dir))
    if tree.deck is None:
        raise DeckgenError(list(tree.problems) or [Problem(str(scenarios_dir), None, "deck.yaml not found")])
    deck, problems = model.validate_deck(tree.deck)
    if deck is None:
        raise DeckgenError(problems)
    known = [c.slug for c in deck.categories]
    if category not in known:
        raise click.BadParameter(f"`{category}` is not in deck.yaml (known: {', '.join(known)})", param_hint="CATEGORY")
    taken = {f.path.stem for f in tree.files}
    target = Path(scenarios_dir) / category / f"{scenario_id}.yaml"
    if scenario_id in taken or target.exists():
        raise DeckgenError(
            Problem(str(target), None, f"id `{scenario_id}` is already used: ids are unique and never reused")
        )
    text = SKELETON.format(id=scenario_id, category=category, bucket=deck.buckets[0].slug, version=deck.version)
    target.parent.mkdir(parents=True, exist_ok=True)
    from deckgen.package import write_atomic

    write_atomic(target, text.encode("utf-8"))
    click.echo(str(target))


@main.command()
@click.argument("collection", type=click.Path(path_type=Path))
@SCENARIOS
@MEDIA
@RELEASES
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "patch"]),
    default="text",
    show_default=True,
    help="text: a word diff per section with file and line; patch: for `git apply`.",
)
def suggest(collection, scenarios_dir, media_dir, releases_dir, fmt) -> None:
    """What you changed in Anki (an exported .apkg or .colpkg), as edits to the sources.

    Nothing is written: review the suggestions, or apply the patch with `git apply`.
    """
    from deckgen import suggest as mod

    result = mod.suggest(collection, scenarios_dir, media_dir, releases_dir)
    if fmt == "patch":
        text, skipped = mod.patch(result)
        click.echo(text, nl=False)
        for line in skipped:
            click.echo(line, err=True)
        return
    click.echo(mod.format_text(result))


@main.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--pending",
    is_flag=True,
    help="NEW is work in progress (a pull request): don't require a new version and date yet.",
)
def diff_cmd(old, new, pending) -> None:
    """What importing NEW over OLD changes (manifests or .apkg files); exit 1 if it would hurt."""
    from deckgen import diff, manifest

    report = diff.compare(manifest.read(old), manifest.read(new), pending)
    click.echo(diff.format_report(report))
    if not report.ok:
        raise SystemExit(1)


@main.command()
@SCENARIOS
@MEDIA
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default="build", show_default=True)
@RELEASES
@click.option(
    "--changelog", "changelog_path", type=click.Path(path_type=Path), default="CHANGELOG.md", show_default=True
)
def release(scenarios_dir, media_dir, out_dir, releases_dir, changelog_path) -> None:
    """Check against the last release, then build the full deck, category subsets and peers edition."""
    from deckgen import diff
    from deckgen.release import release as run

    result = run(scenarios_dir, media_dir, out_dir, releases_dir, changelog_path)
    if result.report is not None:
        click.echo(diff.format_report(result.report))
    for path in result.files:
        click.echo(str(path))
    if result.changelog_written:
        click.echo(f"{changelog_path}: section added")


if __name__ == "__main__":  # pragma: no cover
    main()
