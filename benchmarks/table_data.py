"""Bulk-inserted synthetic experiments for the table benchmark (fast, no per-row API calls)."""
from __future__ import annotations

import random
import time
import uuid

from exptable_desktop.core import states as st
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import Experiment, ExperimentTag, HyperParam, MetricSummary, Project, Tag

STATUS_MIX = [st.COMPLETED] * 6 + [st.RUNNING, st.FAILED, st.ABORTED, st.DRAFT, st.PENDING, st.PUBLISHED]
TAGS = ["baseline", "best", "resnet", "transformer", "sweep", "ablation", "prod", "debug", "lr-search", "gpu"]


def generate(n: int, *, n_metrics: int = 20, n_params: int = 20, projects: int = 4, seed: int = 7) -> list[str]:
    """``n`` experiments spread over a few projects of root project "bench"; returns their ids."""
    rng = random.Random(seed)
    now = time.time()

    def work():
        root = Project.create(name="bench", created=now)
        subs = [Project.create(name=f"team-{i}", parent=root.id, created=now).id for i in range(projects)]
        tag_ids = [Tag.create(name=t).id for t in TAGS]
        ids = []
        rows = []
        for i in range(n):
            exp_id = uuid.uuid4().hex
            ids.append(exp_id)
            status = rng.choice(STATUS_MIX)
            started = now - rng.uniform(60, 86400 * 60) if status != st.DRAFT else None
            rows.append({
                "id": exp_id, "name": f"train-{rng.choice(['resnet', 'vit', 'bert', 'mlp'])}-{i:06d}",
                "type": rng.choice(st.TASK_TYPES[:4]), "status": status, "project": rng.choice(subs),
                "user": rng.choice(["alice", "bob", "carol", "dave"]),
                "parent": ids[rng.randrange(len(ids))] if i and rng.random() < 0.05 else None,
                "created": (started or now) - 30, "started": started,
                "last_update": min((started or now) + rng.uniform(10, 3600), now), "last_iteration": rng.randrange(0, 100000),
                "progress": rng.randrange(0, 101), "description": f"run {i} of the sweep",
                "run_time": rng.uniform(1, 86400 * 3), "archived": rng.random() < 0.02,
            })
        for start in range(0, n, 2000):
            Experiment.insert_many(rows[start:start + 2000]).execute()
        links = [{"experiment": e, "tag": t} for e in ids for t in rng.sample(tag_ids, rng.randrange(0, 3))]
        for start in range(0, len(links), 5000):
            ExperimentTag.insert_many(links[start:start + 5000]).execute()
        batch = []
        for m in range(n_metrics):
            metric, variant = f"metric{m // 4}", f"var{m % 4}"
            for e in ids:
                v = rng.random()
                batch.append((e, metric, variant, v, v, v * 0.5, v * 1.5, v, 1, 1, 100))
                if len(batch) >= 5000:
                    _flush_metrics(batch)
        _flush_metrics(batch)
        params = []
        for p in range(n_params):
            section, name = ("Args", f"param{p}") if p < n_params - 2 else ("properties", f"prop{p}")
            choices = [str(x) for x in (0.1, 0.01, 0.001, 32, 64, 128, "adam", "sgd")]
            for e in ids:
                params.append((e, section, name, rng.choice(choices)))
                if len(params) >= 5000:
                    _flush_params(params)
        _flush_params(params)
        return ids
    return run_write(work)


def _flush_metrics(batch: list) -> None:
    fields = [MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant, MetricSummary.first,
              MetricSummary.last, MetricSummary.min, MetricSummary.max, MetricSummary.total,
              MetricSummary.finite_count, MetricSummary.count, MetricSummary.last_iteration]
    MetricSummary.insert_many(batch, fields=fields).execute()
    batch.clear()


def _flush_params(batch: list) -> None:
    HyperParam.insert_many(batch, fields=[HyperParam.experiment, HyperParam.section, HyperParam.name,
                                          HyperParam.value]).execute()
    batch.clear()
