"""Seeded generator of scenario source trees that follow the contract, for benchmarks.

Sizes follow the issue: ~500-character situation, 4 concepts, 3/3/2 answer bullets with
markers, ~400-character why, code in one of five languages, and text that needs cloze
escaping (Airflow's {{ ds }}, Scala's ::) in some scenarios.

    python bench/generate.py 1000 /tmp/tree1000
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

CATEGORIES = [
    ("pipeline-failures", "Data Pipeline Failures"),
    ("performance-latency", "Performance & Latency Issues"),
    ("streaming-kafka", "Streaming / Kafka Incidents"),
    ("data-quality", "Data Quality & Trust Breaks"),
    ("cloud-cost", "Cloud Cost & Resource Explosions"),
    ("orchestration", "Orchestration & Scheduling Issues"),
    ("schema-evolution", "Schema, Contract & Evolution Problems"),
    ("backfills-recovery", "Backfills, Reprocessing & Recovery"),
    ("security-compliance", "Security, Access & Compliance Incidents"),
    ("stakeholders", "Stakeholder, Process & People Pressure"),
]
BUCKETS = [
    "batch-spark",
    "streaming",
    "data-quality",
    "schema-evolution",
    "late-data",
    "orchestration",
    "failure-recovery",
    "performance-scalability",
    "cost",
    "observability",
    "security",
]
WORDS = (
    "spark executor shuffle partition kafka consumer lag offset watermark airflow sensor dbt model "
    "delta iceberg snapshot warehouse snowflake bigquery cluster skew broadcast join retry backfill "
    "schema registry contract null duplicate freshness latency throughput cost budget spot node "
    "checkpoint replay rollback merge upsert partition pruning compaction file table stream batch"
).split()
CODE = {
    "python": "df = spark.read.parquet(path)\ndf = df.repartition(400, 'customer_id')\ndf.write.mode('overwrite').parquet(out)\n",
    "sql": "MERGE INTO orders t USING staged s ON t.id = s.id\nWHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *;\n",
    "scala": 'val parts = rows :: Nil\nspark.conf.set("spark.sql.adaptive.enabled", "true")\n',
    "yaml": "default_args:\n  retries: 3\n  retry_exponential_backoff: true\n",
    "properties": "max.poll.interval.ms=600000\nmax.poll.records=200\nenable.idempotence=true\n",
}


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize()


def _para(rng: random.Random, chars: int) -> str:
    out = []
    while sum(len(s) + 2 for s in out) < chars:
        out.append(_sentence(rng, rng.randint(8, 14)) + ".")
    return " ".join(out)


def _bullet(rng: random.Random, tricky: bool) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 14))]
    i = rng.randint(1, len(words) - 3)
    words[i] = "[[" + words[i] + " " + words[i + 1] + "]]"
    del words[i + 1]
    text = " ".join(words)
    if tricky:
        text += " with `{{ ds }}` and std::map"
    return "'" + text.capitalize().replace("'", "''") + "'"


def scenario(rng: random.Random, sid: str, category: str) -> str:
    tricky = rng.random() < 0.2
    buckets = rng.sample(BUCKETS, rng.randint(1, 3))
    lang = rng.choice(sorted(CODE))
    situation = _para(rng, 500) + (" The DAG renders `{{ ds }}` and the job logs `a::b`." if tricky else "")
    lines = [
        f"id: {sid}",
        f"title: {_sentence(rng, 6)}",
        f"category: {category}",
        f"buckets: [{', '.join(buckets)}]",
        f"difficulty: {rng.choice(['easy', 'medium', 'medium', 'hard'])}",
        "situation: |",
        *("  " + ln for ln in _wrap(situation)),
        "concepts:",
        *(f"  - {' '.join(rng.choice(WORDS) for _ in range(3))}" for _ in range(4)),
        "answer:",
        "  immediate:",
        *(f"    - {_bullet(rng, tricky and k == 0)}" for k in range(3)),
        "  preventive:",
        *(f"    - {_bullet(rng, False)}" for _ in range(3)),
        "  communication:",
        *(f"    - {_bullet(rng, False)}" for _ in range(2)),
        "why: |",
        *("  " + ln for ln in _wrap(_para(rng, 400) + " **Trade-off:** speed against *safety*.")),
        "pitfalls:",
        *(f"  - {_sentence(rng, 9)}" for _ in range(2)),
        "follow_ups:",
        f"  - {_sentence(rng, 8)}?",
        "code:",
        f"  lang: {lang}",
        "  source: |",
        *("    " + ln for ln in CODE[lang].splitlines()),
    ]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 90) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return out + ([line] if line else [])


def deck_yaml() -> str:
    cats = "\n".join(f'  - slug: {s}\n    title: "{t}"\n    target: 1' for s, t in CATEGORIES)
    buckets = "\n".join(
        f'  - slug: {b}\n    title: {b.replace("-", " ").title()}\n    triggers: ["Something about {b}"]\n'
        f'    typical: ["A typical {b} case", "Another {b} case"]\n    concepts: ["{b} concept one", "{b} concept two"]'
        for b in BUCKETS
    )
    return (
        'slug: bench-deck\ntitle: "Bench Deck"\nversion: 1.0.0\nreleased: 2026-11-22\n'
        "description: |\n  A generated deck for benchmarks.\n"
        f"categories:\n{cats}\nbuckets:\n{buckets}\n"
    )


def generate(n: int, root: Path, seed: int = 20261122) -> Path:
    rng = random.Random(seed)
    scen = root / "scenarios"
    scen.mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    (scen / "deck.yaml").write_text(deck_yaml(), encoding="utf-8")
    for i in range(n):
        slug = CATEGORIES[i % len(CATEGORIES)][0]
        folder = scen / slug
        folder.mkdir(exist_ok=True)
        sid = f"s{i:05d}-{rng.choice(WORDS)}"
        (folder / f"{sid}.yaml").write_text(scenario(rng, sid, slug), encoding="utf-8")
    return root


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
