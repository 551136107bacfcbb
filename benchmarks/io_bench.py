"""Data in and out: CSV export, the MLflow importer on an SQL store, bundles. Prints its figures.

    python benchmarks/io_bench.py                      # the issue's scale: 100,000 x 40 CSV, 10,000 MLflow runs
    python benchmarks/io_bench.py --runs 1000          # a smaller MLflow store (the rate is what matters)

CSV export: a table of 100,000 rows x 40 columns built in memory (13 built-in, 14 metric and 13
hyperparameter columns), written as shown and at full precision; goal under 3 s. CSV import:
the file read back with Python's csv module (what a spreadsheet-minded reader pays).
MLflow import: a SQLite tracking store of ``--runs`` runs x 5 metrics x 100 steps. One run is
logged through MLflow (so MLflow creates and migrates the schema); the rest are bulk-inserted into
MLflow's own tables (its SQLAlchemy models), because logging 5 million points through the client
takes the best part of an hour. The import itself goes through ``exptable import mlflow``'s code;
goal 10,000 runs (5,000,000 points) under 60 s. Bundles: export and import of 200 demo experiments.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "io"))

METRICS = ("loss/train", "loss/val", "accuracy/val", "lr", "grad_norm")


def bench_csv(rows: int) -> None:
    from test_io_csv import _big_table  # the same in-memory table the test measures

    from exptable_desktop.io.csv_export import CsvOptions, write_csv

    table, keys = _big_table(rows, 14, 13)
    for precise in (False, True):
        out = io.StringIO(newline="")
        wall, cpu = time.perf_counter(), time.process_time()
        write_csv(out, table, keys, options=CsvOptions(precise=precise))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        text = out.getvalue()
        label = "full precision" if precise else "as shown"
        print(f"CSV export {label:>14}: {rows:,} rows x {len(keys)} columns in {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"({rows / wall:,.0f} rows/s, {rows * len(keys) / wall / 1e6:.1f} M cells/s, "
              f"{len(text) / 1e6:.1f} MB)")
    start = time.perf_counter()
    parsed = sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
    took = time.perf_counter() - start
    print(f"CSV import (csv module): {parsed - 1:,} rows in {took:.2f} s ({(parsed - 1) / took:,.0f} rows/s)")


def make_mlflow_store(path: Path, runs: int, steps: int) -> str:
    import mlflow
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag

    uri = f"sqlite:///{path}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiments = [client.create_experiment(f"bench/sweep-{i}") for i in range(10)]
    template = client.create_run(experiments[0], run_name="template")  # MLflow writes the first run itself
    client.log_metric(template.info.run_id, METRICS[0], 1.0, step=0)
    client.set_terminated(template.info.run_id, "FINISHED")
    engine = sa.create_engine(uri)
    base = 1_790_000_000_000
    with engine.begin() as conn:
        batch: dict = {SqlRun: [], SqlParam: [], SqlTag: [], SqlLatestMetric: [], SqlMetric: []}

        def flush() -> None:
            for model, rows in batch.items():  # runs first: the other tables refer to them
                if rows and model is SqlMetric:
                    _insert_metrics(conn, model.__table__, rows)
                elif rows:
                    conn.execute(model.__table__.insert(), rows)
                rows.clear()
        for i in range(runs - 1):
            run_id = uuid.uuid4().hex
            start = base + i * 60_000
            batch[SqlRun].append(dict(
                run_uuid=run_id, name=f"run-{i}", source_type="LOCAL", source_name="train.py", entry_point_name="",
                user_id="bench", status="FINISHED", start_time=start, end_time=start + steps * 1000,
                source_version="", lifecycle_stage="active", artifact_uri=f"{path.parent}/artifacts/{run_id}",
                experiment_id=int(experiments[i % len(experiments)])))
            batch[SqlParam] += [dict(key=k, value=v, run_uuid=run_id) for k, v in (
                ("lr", str(10 ** -(i % 4 + 1))), ("batch_size", str(2 ** (i % 5 + 4))), ("model", "resnet"))]
            batch[SqlTag] += [dict(key="mlflow.runName", value=f"run-{i}", run_uuid=run_id),
                              dict(key="team", value="vision", run_uuid=run_id)]
            rng = np.random.default_rng(i)
            for key in METRICS:
                values = rng.random(steps).tolist()
                batch[SqlMetric] += [dict(key=key, value=v, timestamp=start + s * 1000, step=s, is_nan=False,
                                          run_uuid=run_id) for s, v in enumerate(values)]
                batch[SqlLatestMetric].append(dict(key=key, value=values[-1], timestamp=start + (steps - 1) * 1000,
                                                   step=steps - 1, is_nan=False, run_uuid=run_id))
            if len(batch[SqlRun]) >= 500:
                flush()
        flush()
    return uri


def _insert_metrics(conn, table, rows) -> None:
    # The DB-API's executemany on MLflow's own table and columns: SQLAlchemy's row-by-row
    # parameter processing would take longer than the import being measured.
    columns = [c.name for c in table.columns]
    sql = f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
    conn.connection.driver_connection.executemany(sql, [tuple(r[c] for c in columns) for r in rows])


def bench_mlflow(runs: int, steps: int, folder: Path) -> None:
    os.environ.setdefault("EXPTABLE_FILES", str(folder / "files"))
    start = time.perf_counter()
    uri = make_mlflow_store(folder / "mlflow.db", runs, steps)
    print(f"MLflow store: {runs:,} runs x {len(METRICS)} metrics x {steps} steps "
          f"({runs * len(METRICS) * steps:,} points) made in {time.perf_counter() - start:.1f} s")
    from exptable_desktop.io.importers import run_import
    from exptable_desktop.store import close_database, open_database

    open_database(f"sqlite:///{folder / 'target.db'}")
    try:
        shown = [0.0]

        def progress(done, total, _name):
            now = time.perf_counter()
            if now - shown[0] > 5 or done == total:
                shown[0] = now
                print(f"  {done:,} of {total:,} runs", file=sys.stderr)
        start = time.perf_counter()
        report = run_import("mlflow", uri, on_progress=progress)
        took = time.perf_counter() - start
        points = sum(r.added.get("points", 0) for r in report.runs)
        print(f"MLflow import: {len(report.runs):,} runs, {points:,} points in {took:.1f} s "
              f"({len(report.runs) / took:,.0f} runs/s, {points / took:,.0f} points/s)")
        start = time.perf_counter()
        again = run_import("mlflow", uri)
        print(f"MLflow re-import (nothing new): {again.count('unchanged'):,} unchanged in "
              f"{time.perf_counter() - start:.1f} s")
    finally:
        close_database()


def bench_bundle(folder: Path, experiments: int) -> None:
    from exptable_desktop.io.bundle import export_bundle, import_bundle
    from exptable_desktop.io.demo import make_demo
    from exptable_desktop.store import close_database, open_database
    from exptable_desktop.store.schema import Experiment

    os.environ["EXPTABLE_FILES"] = str(folder / "bundle-files-a")
    open_database(f"sqlite:///{folder / 'bundle-a.db'}")
    make_demo(experiments, seed=9, detailed=experiments // 2, images=20)
    ids = [i for (i,) in Experiment.select(Experiment.id).tuples()]
    stats = export_bundle(ids, folder / "runs.etb")
    close_database()
    print(f"bundle export: {stats.summary('runs.etb')} ({(folder / 'runs.etb').stat().st_size / 1e6:.1f} MB zip)")
    os.environ["EXPTABLE_FILES"] = str(folder / "bundle-files-b")
    open_database(f"sqlite:///{folder / 'bundle-b.db'}")
    result = import_bundle(folder / "runs.etb")
    close_database()
    print(f"bundle import: {result.summary('runs.etb')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10_000, help="MLflow runs (0 skips the MLflow part)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--bundle-experiments", type=int, default=200)
    args = parser.parse_args()
    bench_csv(args.csv_rows)
    with tempfile.TemporaryDirectory(prefix="exptable-io-bench-") as tmp:
        if args.runs:
            try:
                import mlflow  # noqa: F401
            except ImportError:
                print("MLflow import: skipped (pip install -e '.[mlflow]')")
            else:
                bench_mlflow(args.runs, args.steps, Path(tmp))
        if args.bundle_experiments:
            bench_bundle(Path(tmp), args.bundle_experiments)


if __name__ == "__main__":
    main()
