"""Time deckgen against the afternoon baseline, as whole processes, interleaved.

For each N: generate a seeded tree (bench/generate.py), then alternate baseline and
deckgen cold builds (no cache, empty output folder), K runs each, and report the median
wall time and peak RSS from /usr/bin/time -v. Then a warm rebuild: deckgen with its cache
after editing one scenario, checked byte-identical to a cold build of the same sources.

    python bench/run.py                    # N = 100, 1000, 10000; 3 runs each
    python bench/run.py --sizes 100 1000 --runs 5 --markdown
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole process."""
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", out.stderr)
    h, m, s = wall.groups()
    seconds = (int(h) * 3600 if h else 0) + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return seconds, rss


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bench(n: int, runs: int, work: Path) -> dict:
    tree = work / f"tree{n}"
    if not (tree / "scenarios" / "deck.yaml").exists():
        generate(n, tree)
    py = sys.executable
    deckgen = [py, "-m", "deckgen", "build", "--out"]
    base, dg = [], []
    for _ in range(runs):
        base.append(timed([py, str(HERE / "baseline.py"), str(tree), str(work / f"base{n}.apkg")], tree))
        out = work / f"cold{n}"
        shutil.rmtree(out, ignore_errors=True)
        dg.append(timed(deckgen + [str(out), "--no-cache"], tree))
    cold_apkg = next((work / f"cold{n}").glob("*.apkg"))
    # Warm: build with the cache, edit one scenario, rebuild; compare with a cold build.
    warm_out = work / f"warm{n}"
    shutil.rmtree(warm_out, ignore_errors=True)
    timed(deckgen + [str(warm_out)], tree)
    victim = sorted((tree / "scenarios").glob("*/*.yaml"))[n // 2]
    original = victim.read_bytes()
    warm = []
    try:
        for k in range(runs):
            victim.write_bytes(original.replace(b"\ntitle: ", f"\ntitle: Edited {k} ".encode(), 1))
            warm.append(timed(deckgen + [str(warm_out)], tree))
        check = work / f"check{n}"
        shutil.rmtree(check, ignore_errors=True)
        timed(deckgen + [str(check), "--no-cache"], tree)
        identical = sha(next(warm_out.glob("*.apkg"))) == sha(next(check.glob("*.apkg")))
    finally:
        victim.write_bytes(original)
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    return {
        "n": n,
        "base_s": med(base, 0),
        "base_rss": med(base, 1),
        "cold_s": med(dg, 0),
        "cold_rss": med(dg, 1),
        "warm_s": med(warm, 0),
        "warm_rss": med(warm, 1),
        "identical": identical,
        "base_size": (work / f"base{n}.apkg").stat().st_size,
        "apkg_size": cold_apkg.stat().st_size,
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| N | baseline | deckgen cold | ratio | deckgen warm (1 file edited) | ratio "
        "| peak RSS baseline / cold / warm | .apkg baseline / deckgen | warm = cold bytes |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['base_s']:.2f} s | {r['cold_s']:.2f} s | {r['cold_s'] / r['base_s']:.2f}x | "
            f"{r['warm_s']:.2f} s | {r['warm_s'] / r['base_s']:.2f}x | "
            f"{r['base_rss'] / 1024:.0f} / {r['cold_rss'] / 1024:.0f} / {r['warm_rss'] / 1024:.0f} MiB | "
            f"{r['base_size'] / 1e6:.1f} / {r['apkg_size'] / 1e6:.1f} MB | {'yes' if r['identical'] else 'NO'} |"
        )
    if len(rows) >= 2:
        by_n = {r["n"]: r for r in rows}
        if 1000 in by_n and 10000 in by_n:
            lines.append("")
            lines.append(
                f"Scaling: t(10k)/t(1k) = {by_n[10000]['cold_s'] / by_n[1000]['cold_s']:.1f} for deckgen cold "
                f"(baseline {by_n[10000]['base_s'] / by_n[1000]['base_s']:.1f})."
            )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name"))
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="where trees and outputs go (default: a temp folder)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown only")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="deckgen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        rows.append(bench(n, args.runs, work))
        if not args.markdown:
            r = rows[-1]
            print(
                f"N={n}: baseline {r['base_s']:.2f}s, cold {r['cold_s']:.2f}s ({r['cold_s'] / r['base_s']:.2f}x), "
                f"warm {r['warm_s']:.2f}s ({r['warm_s'] / r['base_s']:.2f}x), identical={r['identical']}",
                flush=True,
            )
    print()
    print(f"Machine: {machine()}")
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
