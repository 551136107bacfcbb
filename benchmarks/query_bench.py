"""Query-language speed: queries evaluated over an in-memory table (no database, no Qt).

    python benchmarks/query_bench.py [--experiments 100000]

Builds an ExperimentTable with base columns, tags, one metric and one hyperparameter column,
then prints the best of five evaluations of each query, in milliseconds, with the rows matched.
The budget is 100 ms at 100,000 rows (issue 13).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = (
    "status:running tag:best -tag:debug user:alice|bob lr>0.01 metric:val/acc.max>=0.9 started>2026-11-01 "
    "name~/resnet(18|50)/ (A OR B)",
    "status:running|completed user:alice|bob lr>0.01 metric:val/acc.max>=0.5 name~/resnet(18|50)/",
    "started>7d -tag:debug iteration>=500 run_time<1h",
    "lr:0.01|0.1 OR user:alice",
    "-tag:debug",
    "resnet",
    "run-5 OR about",
    'description:"about run"',
    "name~/resnet(18|50)/",
    "/run.*5$/",
)


def build(n: int):
    from exptable_desktop.core.columns import hyperparam_key, metric_key
    from exptable_desktop.core.experiment_table import ExperimentTable
    from exptable_desktop.store.bulk import BASE_FIELDS

    rng = random.Random(1)
    now = time.time()
    statuses = ["created", "queued", "in_progress", "completed", "stopped", "failed", "published"]
    rows = []
    for i in range(n):
        values = dict(id=f"{i:032x}", name=f"resnet{rng.choice([18, 34, 50])}-run-{i}", type="training",
                      status=rng.choice(statuses), project=rng.randint(1, 20),
                      user=rng.choice(["alice", "bob", "carol", "dave"]), parent=None,
                      started=now - rng.random() * 90 * 86400, last_update=now - rng.random() * 86400,
                      last_iteration=rng.randint(0, 1000), progress=None, description=f"about run {i}",
                      run_time=rng.random() * 7200, archived=False, created=now - 100 * 86400,
                      development=False)
        rows.append(tuple(values[f] for f in BASE_FIELDS))
    table = ExperimentTable(n + 10)
    table.tag_info = {1: ("best", None, None), 2: ("debug", None, None), 3: ("baseline", None, None)}
    table.project_paths = {p: f"proj/{p}" for p in range(1, 21)}
    table.write_base_rows(rows)
    table.write_tags([(f"{i:032x}", rng.choice([1, 2, 3])) for i in range(0, n, 3)])
    table.add_custom_column(metric_key("val", "acc", "max"), [(f"{i:032x}", rng.random()) for i in range(n)])
    table.add_custom_column(hyperparam_key("Args", "lr"),
                            [(f"{i:032x}", str(rng.choice([0.1, 0.01, 0.001, 0.05]))) for i in range(n)])
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100_000)
    args = parser.parse_args()
    from exptable_desktop.core.query import Catalogue, compile_query

    table = build(args.experiments)
    catalogue = Catalogue([("val", "acc")], [("Args", "lr")])
    for text in QUERIES:
        compiled = compile_query(text, catalogue)
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            mask = compiled.evaluate(table)
            best = min(best, time.perf_counter() - started)
        print(f"{best * 1000:8.1f} ms  {int(mask.sum()):7,d} rows  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
