"""What the deck holds against what it should: per category, difficulty and bucket."""

from __future__ import annotations

from collections import Counter

from deckgen.model import DIFFICULTIES, Project


def stats_report(project: Project) -> str:
    deck = project.deck
    scenarios = project.scenarios
    per_cat = Counter(s.category for s in scenarios)
    lines = [f"{deck.title} v{deck.version}: {len(scenarios)} scenarios", "", "Categories (have / target):"]
    width = max(len(c.slug) for c in deck.categories)
    total_target = 0
    for c in deck.categories:
        have = per_cat[c.slug]
        target = c.target
        total_target += target or 0
        if target is None:
            mark = ""
        elif have < target:
            mark = f"  missing {target - have}"
        elif have > target:
            mark = f"  {have - target} over"
        else:
            mark = "  ok"
        lines.append(f"  {c.slug:<{width}}  {have:>4} / {target if target is not None else '-':>4}{mark}")
    if total_target:
        lines.append(f"  {'total':<{width}}  {len(scenarios):>4} / {total_target:>4}")
    per_diff = Counter(s.difficulty for s in scenarios)
    lines += ["", "Difficulty:"]
    for d in DIFFICULTIES:
        share = 100 * per_diff[d] / len(scenarios) if scenarios else 0
        lines.append(f"  {d:<8} {per_diff[d]:>4}  {share:3.0f}%")
    primary = Counter(s.buckets[0] for s in scenarios)
    anywhere = Counter(b for s in scenarios for b in s.buckets)
    bw = max(len(b.slug) for b in deck.buckets)
    lines += ["", "Buckets (primary / any):"]
    for b in deck.buckets:
        flag = "  none" if anywhere[b.slug] == 0 else ""
        lines.append(f"  {b.slug:<{bw}}  {primary[b.slug]:>4} / {anywhere[b.slug]:>4}{flag}")
    lines += ["", *coverage_lines(project)]
    return "\n".join(lines)


def coverage_lines(project: Project) -> list[str]:
    """How many scenarios exercise each typical scenario and concept of the classification."""
    counts = Counter(p for s in project.scenarios for p in s.covers)
    total = covered = 0
    out = ["Classification coverage (scenarios whose `covers` name it):"]
    for b in project.deck.buckets:
        out.append(f"  {b.title}")
        for label, phrases in (("typical", b.typical), ("concept", b.concepts)):
            for phrase in phrases:
                total += 1
                n = counts[phrase]
                covered += n > 0
                out.append(f"    {n:>3}  {label}: {phrase}" + ("  <- none" if n == 0 else ""))
    out.insert(1, f"  covered {covered} of {total}")
    return out
