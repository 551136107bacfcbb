"""Realistic demo experiments, fast enough to make 100,000 of them in under a minute.

Everything is drawn from one seeded generator, so a seed always yields the same
experiments (ids, names, values, relative times). Times are offsets from
``now`` and spread over the last 90 days.

Every experiment gets its row, execution, hyperparameters, configuration and
tags, and every one that ran gets its scalar series, through bulk inserts
(``store.bulk_write``: one prepared statement or COPY per table and block, not
one ORM call per experiment). Each metric summary is computed from the points
stored with it (``store.series.new_series_rows``), so the SCALARS tab of any
experiment shows the curves its table row summarises. The first ``detailed``
experiments that ran get every report of their curves, single values, console
output, plots, debug-sample PNGs and artifact files; the others keep
``THINNED_POINTS`` evenly spaced reports per series, as a script that reports
once per epoch would, so 100,000 experiments stay quick to write.

No sample experiment is Running. Running means a process is recording the run
and beating its heartbeat (``core.liveness``); nothing stands behind sample
data, so a Running sample would be ended as Aborted ("no heartbeat") by the
first program to read the table. Live runs come from a script with
``Task.init`` or from an agent.
"""
from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from peewee import fn

from exptable_desktop.core import states as st
from exptable_desktop.core.actions import get_or_create_queue
from exptable_desktop.core.projects import get_or_create_project
from exptable_desktop.sdk.png import write_png
from exptable_desktop.store import files as store_files
from exptable_desktop.store.bulk_write import insert_dicts, insert_rows, set_experiment_parents
from exptable_desktop.store.db import require_writable, write_transaction
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Plot,
    Project,
    QueueEntry,
    ScalarChunk,
    SingleValue,
    Tag,
    Worker,
    WorkerQueue,
)
from exptable_desktop.store.series import new_series_rows

DAY = 86_400.0
HISTORY_SECONDS = 90 * DAY
# Experiments generated and inserted at a time (bounds the rows held in memory;
# progress is reported after each). The whole demo is one transaction.
BLOCK_SIZE = 25_000
# Points per series of an experiment without full outputs (see the module's docstring).
THINNED_POINTS = 32
STOPPED_PIPELINE = 15  # the index of the pipeline whose queued steps "Abort all children" can end
PIPELINE_STOPPED_AGO_S = 5400.0


class DemoError(Exception):
    """The demo cannot be written (for example: this seed is already in the database)."""


# ---- Vocabulary ------------------------------------------------------------------------

@dataclass(frozen=True)
class Domain:
    """What the experiments of one kind of work are about: models, datasets, repository, metrics, packages."""
    models: tuple[str, ...]
    datasets: tuple[str, ...]
    repository: str
    extra_metrics: tuple[str, ...]  # keys of METRICS beyond the common training set
    packages: str


DOMAINS = {
    "classification": Domain(
        ("resnet18", "resnet50", "efficientnet_b0", "vit_b16", "convnext_tiny"),
        ("cifar10", "cifar100", "imagenet-1k"), "https://github.com/acme-ml/vision.git",
        ("top5_accuracy/val", "precision/val", "recall/val", "f1/val", "auc/val"),
        "torch==2.4.1\ntorchvision==0.19.1\ntimm==1.0.9\n"),
    "detection": Domain(
        ("yolov8n", "yolov8s", "yolov8m", "faster_rcnn_r50", "detr_r50"), ("coco-2017", "pascal-voc"),
        "https://github.com/acme-ml/vision.git", ("mAP/val", "iou/val"),
        "torch==2.4.1\ntorchvision==0.19.1\nultralytics==8.2.90\npycocotools==2.0.8\n"),
    "segmentation": Domain(
        ("unet", "deeplabv3_r101", "mask2former_swin_t"), ("cityscapes", "ade20k"),
        "https://github.com/acme-ml/vision.git", ("iou/val",),
        "torch==2.4.1\ntorchvision==0.19.1\nsegmentation-models-pytorch==0.3.4\n"),
    "text_classification": Domain(
        ("bert-base-uncased", "roberta-large", "distilbert-base"), ("sst2", "imdb", "ag_news"),
        "https://github.com/acme-ml/nlp.git", ("precision/val", "recall/val", "f1/val", "auc/val"),
        "torch==2.4.1\ntransformers==4.44.2\ndatasets==3.0.0\n"),
    "translation": Domain(
        ("t5-small", "t5-base", "marian-en-de"), ("wmt14-en-de", "iwslt17-en-de"),
        "https://github.com/acme-ml/nlp.git", ("perplexity/val", "bleu/val"),
        "torch==2.4.1\ntransformers==4.44.2\nsacrebleu==2.4.3\n"),
    "llm": Domain(
        ("llama-3-8b-lora", "mistral-7b-lora", "qwen2-1.5b"), ("alpaca", "dolly-15k", "oasst1"),
        "https://github.com/acme-ml/llm-finetune.git", ("perplexity/val",),
        "torch==2.4.1\ntransformers==4.44.2\npeft==0.12.0\naccelerate==0.34.2\n"),
    "speech": Domain(
        ("whisper-small", "wav2vec2-base", "conformer-m"), ("librispeech-100h", "common-voice-16"),
        "https://github.com/acme-ml/speech.git", (),
        "torch==2.4.1\ntorchaudio==2.4.1\ntransformers==4.44.2\n"),
    "rl": Domain(
        ("ppo", "dqn", "sac"), ("atari-breakout", "atari-pong", "mujoco-halfcheetah"),
        "https://github.com/acme-ml/rl.git", ("reward/mean",),
        "torch==2.4.1\ngymnasium==0.29.1\nstable-baselines3==2.3.2\n"),
    "mnist": Domain(
        ("mnist-cnn", "mnist-mlp"), ("mnist",), "https://github.com/acme-ml/examples.git",
        ("precision/val", "recall/val", "f1/val"), "torch==2.4.1\ntorchvision==0.19.1\n"),
}

# Where experiments live, with their domain and relative weight. Parents
# ("Vision", "NLP", ...) are created on the way, so the tree is 1 to 4 levels deep.
PROJECTS = (
    ("Vision/Classification", "classification", 3),
    ("Vision/Classification/ResNet ablations", "classification", 3),
    ("Vision/Classification/ResNet ablations/lr sweep", "classification", 4),
    ("Vision/Detection", "detection", 1),
    ("Vision/Detection/YOLO", "detection", 3),
    ("Vision/Segmentation", "segmentation", 2),
    ("NLP/Sentiment", "text_classification", 2),
    ("NLP/Translation", "translation", 1),
    ("NLP/Translation/en-de", "translation", 2),
    ("NLP/LLM fine-tuning", "llm", 1),
    ("NLP/LLM fine-tuning/LoRA", "llm", 3),
    ("Speech/ASR", "speech", 2),
    ("RL/Atari", "rl", 2),
    ("Examples", "mnist", 1),
)

USERS = ("alice", "bob", "carol", "dmitri", "eve", "farah")

# name -> (background, foreground); None leaves the UI's default colours.
TAGS = {
    "baseline": ("#1f6feb", "#ffffff"), "best": ("#2da44e", "#ffffff"), "ablation": None,
    "sweep": None, "needs-review": ("#d29922", "#000000"), "production": ("#8250df", "#ffffff"),
    "regression": ("#cf222e", "#ffffff"), "fp16": None, "large-batch": None, "debug": None,
    "paper": ("#bf3989", "#ffffff"), "v2": None,
}

# Every status but Running (see the module's docstring).
STATUS_WEIGHTS = {
    st.COMPLETED: 0.49, st.CLOSED: 0.01, st.FAILED: 0.08, st.ABORTED: 0.09,
    st.PENDING: 0.04, st.DRAFT: 0.12, st.PUBLISHED: 0.165, st.PUBLISHING: 0.005,
}
SAMPLE_STATUSES = tuple(s for s in st.ALL_STATUSES if s in STATUS_WEIGHTS)
TYPE_WEIGHTS = {
    "training": 0.50, "testing": 0.10, "inference": 0.07, "data_processing": 0.07, "application": 0.02,
    "monitor": 0.02, "controller": 0.03, "optimizer": 0.03, "service": 0.03, "qc": 0.04, "custom": 0.09,
}
RAN_STATUSES = (st.COMPLETED, st.CLOSED, st.ABORTED, st.FAILED, st.PUBLISHING, st.PUBLISHED)

QUEUES = ("default", "gpu-a100", "gpu-t4", "cpu", "services")
WORKERS = (
    ("gpu-node-01:gpu0", "gpu-node-01", ("gpu-a100", "default")),
    ("gpu-node-01:gpu1", "gpu-node-01", ("gpu-a100", "default")),
    ("gpu-node-02:gpu0", "gpu-node-02", ("gpu-t4",)),
    ("cpu-box:0", "cpu-box", ("cpu", "default")),
    ("services-agent", "ops-01", ("services",)),
)


@dataclass(frozen=True)
class HyperSpec:
    """One hyperparameter the experiments set, and the values it is drawn from."""
    section: str
    name: str
    type: str
    choices: tuple
    description: str = ""


# Twenty names in three sections, so a table can show twenty hyperparameter columns.
ARGS = (
    HyperSpec("Args", "learning_rate", "float", (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2), "initial learning rate"),
    HyperSpec("Args", "batch_size", "int", (16, 32, 64, 128, 256), "samples per step"),
    HyperSpec("Args", "epochs", "int", (10, 20, 30, 50, 100)),
    HyperSpec("Args", "optimizer", "str", ("adam", "adamw", "sgd", "lamb")),
    HyperSpec("Args", "weight_decay", "float", (0.0, 1e-5, 1e-4, 5e-4)),
    HyperSpec("Args", "momentum", "float", (0.9, 0.95, 0.99)),
    HyperSpec("Args", "dropout", "float", (0.0, 0.1, 0.2, 0.3, 0.5)),
    HyperSpec("Args", "seed", "int", tuple(range(0, 10_000, 7))),
    HyperSpec("Args", "model", "str", ()),
    HyperSpec("Args", "dataset", "str", ()),
    HyperSpec("Args", "warmup_steps", "int", (0, 500, 1000, 2000)),
    HyperSpec("Args", "grad_clip", "float", (0.5, 1.0, 5.0)),
)
GENERAL = (
    HyperSpec("General", "num_workers", "int", (2, 4, 8, 16)),
    HyperSpec("General", "precision", "str", ("fp32", "fp16", "bf16")),
    HyperSpec("General", "scheduler", "str", ("cosine", "step", "linear", "constant")),
    HyperSpec("General", "augment", "bool", (True, False)),
)
PROPERTIES = (
    HyperSpec("properties", "owner_team", "str", ("vision", "nlp", "platform", "research")),
    HyperSpec("properties", "priority", "str", ("low", "normal", "high")),
    HyperSpec("properties", "dataset_version", "str", ("v1.0", "v1.1", "v2.0", "v2.1-rc")),
    HyperSpec("properties", "gpu_type", "str", ("A100", "V100", "T4", "RTX4090")),
)
HYPERPARAMS = ARGS + GENERAL + PROPERTIES
HYPER_BY_NAME = {h.name: h for h in HYPERPARAMS}
# Types whose scripts take the full argument set; the rest take a few.
FULL_ARG_TYPES = frozenset({"training", "testing", "custom", "optimizer", "qc"})
LIGHT_ARGS = ("model", "dataset", "batch_size", "seed")


@dataclass(frozen=True)
class MetricSpec:
    """How one metric/variant evolves: ``shape`` is down/up (exponential approach),
    flat (noise around a level), schedule (cosine decay of the learning rate) or
    count (grows linearly). ``good``/``bad`` are final values for the best and
    worst runs; ``every`` is how many training reports pass per report of this
    series (validation reports less often)."""
    metric: str
    variant: str
    shape: str
    start: tuple[float, float]
    good: float
    bad: float
    noise: float
    every: int = 1
    low: float | None = None
    high: float | None = None

    @property
    def key(self) -> str:
        return f"{self.metric}/{self.variant}"


METRIC_SPECS = (
    MetricSpec("loss", "train", "down", (2.0, 2.6), 0.05, 0.9, 0.04, 1, 0.0),
    MetricSpec("loss", "val", "down", (2.0, 2.6), 0.15, 1.1, 0.03, 10, 0.0),
    MetricSpec("accuracy", "train", "up", (0.05, 0.15), 0.995, 0.6, 0.01, 1, 0.0, 1.0),
    MetricSpec("accuracy", "val", "up", (0.05, 0.15), 0.95, 0.55, 0.008, 10, 0.0, 1.0),
    MetricSpec("top5_accuracy", "val", "up", (0.2, 0.4), 0.995, 0.8, 0.005, 10, 0.0, 1.0),
    MetricSpec("precision", "val", "up", (0.1, 0.3), 0.95, 0.5, 0.01, 10, 0.0, 1.0),
    MetricSpec("recall", "val", "up", (0.1, 0.3), 0.94, 0.5, 0.01, 10, 0.0, 1.0),
    MetricSpec("f1", "val", "up", (0.1, 0.3), 0.94, 0.5, 0.01, 10, 0.0, 1.0),
    MetricSpec("auc", "val", "up", (0.5, 0.6), 0.99, 0.7, 0.005, 10, 0.0, 1.0),
    MetricSpec("learning_rate", "lr", "schedule", (0.0, 0.0), 0.0, 0.0, 0.0, 1, 0.0),
    MetricSpec("grad_norm", "total", "down", (5.0, 12.0), 0.3, 2.0, 0.15, 1, 0.0),
    MetricSpec("perplexity", "val", "down", (200.0, 600.0), 4.0, 40.0, 0.5, 10, 1.0),
    MetricSpec("bleu", "val", "up", (0.0, 2.0), 38.0, 15.0, 0.3, 10, 0.0, 100.0),
    MetricSpec("mAP", "val", "up", (0.0, 0.02), 0.62, 0.25, 0.005, 10, 0.0, 1.0),
    MetricSpec("iou", "val", "up", (0.05, 0.15), 0.85, 0.45, 0.006, 10, 0.0, 1.0),
    MetricSpec("throughput", "samples_per_sec", "flat", (800.0, 3000.0), 0.0, 0.0, 0.05, 1, 0.0),
    MetricSpec("gpu", "memory_gb", "flat", (4.0, 70.0), 0.0, 0.0, 0.02, 1, 0.0),
    MetricSpec("reward", "mean", "up", (-21.0, -15.0), 400.0, 20.0, 8.0, 1),
    MetricSpec("data", "rows_processed", "count", (0.0, 0.0), 5e7, 1e6, 0.0, 1, 0.0),
    MetricSpec("latency", "p95_ms", "flat", (8.0, 120.0), 0.0, 0.0, 0.1, 1, 0.0),
)
METRICS = {m.key: m for m in METRIC_SPECS}

COMMON_TRAINING = ("loss/train", "loss/val", "accuracy/train", "accuracy/val", "learning_rate/lr",
                   "grad_norm/total", "throughput/samples_per_sec", "gpu/memory_gb")
SERVING = ("latency/p95_ms", "throughput/samples_per_sec", "gpu/memory_gb")


def metrics_for(task_type: str, domain_name: str) -> tuple[str, ...]:
    domain = DOMAINS[domain_name]
    if task_type in ("training", "custom"):
        if domain_name == "rl":
            return ("loss/train", "reward/mean", "learning_rate/lr", "grad_norm/total",
                    "throughput/samples_per_sec", "gpu/memory_gb")
        base = COMMON_TRAINING if task_type == "training" else ("loss/train", "accuracy/val")
        return base + (domain.extra_metrics if task_type == "training" else ())
    if task_type in ("testing", "qc"):
        vals = tuple(k for k in domain.extra_metrics if k.endswith("/val"))
        return ("loss/val", "accuracy/val") + vals
    if task_type == "inference":
        return ("latency/p95_ms", "throughput/samples_per_sec", "gpu/memory_gb")
    if task_type == "data_processing":
        return ("data/rows_processed", "throughput/samples_per_sec")
    if task_type in ("controller", "optimizer"):
        return ("loss/val", "accuracy/val")
    return SERVING


# ---- The plan: every random draw, made once for all experiments --------------------------

@dataclass
class DemoStats:
    """What ``make_demo`` wrote, and how long it took."""
    experiments: int = 0
    detailed: int = 0
    metric_summaries: int = 0
    hyperparameters: int = 0
    scalar_points: int = 0
    seconds: float = 0.0


def _pick(rng: np.random.Generator, weights: dict, n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _ids(rng: np.random.Generator, n: int) -> list[str]:
    halves = rng.integers(0, np.iinfo(np.uint64).max, size=(n, 2), dtype=np.uint64, endpoint=True)
    return [f"{a:016x}{b:016x}" for a, b in halves.tolist()]


class _Plan:
    """All per-experiment attributes as arrays, drawn in a fixed order from one generator."""

    def __init__(self, n: int, seed: int, now: float, project_ids: dict[str, int], queue_ids: dict[str, int]):
        rng = np.random.default_rng(seed)
        self.n, self.seed, self.now = n, seed, now
        # Sorted, so every per-experiment insert below extends its indexes in key order
        # instead of touching random pages (a third of the time at 100,000).
        drawn = _ids(rng, n)
        self.ids = sorted(drawn)
        # The first draw is the same for any n, so it tells whether this seed was used before.
        self.seed_marker = drawn[0]

        # Types and statuses; the first experiments cover every one of each.
        types = _pick(rng, TYPE_WEIGHTS, n)
        statuses = _pick(rng, STATUS_WEIGHTS, n)
        for i in range(min(n, len(st.TASK_TYPES))):
            types[i] = st.TASK_TYPES[i]
        for i in range(min(n, len(SAMPLE_STATUSES))):
            statuses[i] = SAMPLE_STATUSES[i]
        # A pipeline stopped a while ago whose steps still wait in queues, as when a user aborts a
        # controller: "Abort all children" has something to do.
        self.stopped_pipeline = STOPPED_PIPELINE if n > STOPPED_PIPELINE else None
        if self.stopped_pipeline is not None:
            types[STOPPED_PIPELINE], statuses[STOPPED_PIPELINE] = "controller", st.ABORTED
        self.types, self.statuses = types, statuses

        weights = np.array([w for _, _, w in PROJECTS], dtype=float)
        project_index = rng.choice(len(PROJECTS), size=n, p=weights / weights.sum())
        self.project_paths = np.array([p for p, _, _ in PROJECTS], dtype=object)[project_index]
        self.domains = np.array([d for _, d, _ in PROJECTS], dtype=object)[project_index]
        self.project_ids = [project_ids[p] for p in self.project_paths]
        self.users = np.array(USERS, dtype=object)[rng.integers(0, len(USERS), n)]

        # Hyperparameter choices (indices into each spec's choices).
        self.hyper_choice = {h.name: rng.integers(0, max(1, len(h.choices)), n) for h in HYPERPARAMS}
        self.model_pick = rng.random(n)
        self.dataset_pick = rng.random(n)
        self.property_mask = {h.name: rng.random(n) < 0.35 for h in PROPERTIES}
        self.learning_rates = np.array(HYPER_BY_NAME["learning_rate"].choices)[self.hyper_choice["learning_rate"]]
        # How good a run is: mostly luck, partly a learning rate near 1e-3.
        lr_fit = np.exp(-((np.log10(self.learning_rates) + 3.0) / 0.8) ** 2)
        self.quality = np.clip(0.55 * rng.beta(2.0, 2.0, n) + 0.45 * lr_fit, 0.0, 1.0)

        # How far each run got (1 = to the end) and how long it took.
        fraction = np.ones(n)
        failed = statuses == st.FAILED
        aborted = statuses == st.ABORTED
        fraction[failed] = rng.uniform(0.02, 0.9, n)[failed]
        fraction[aborted] = rng.uniform(0.05, 0.95, n)[aborted]
        ran = np.isin(statuses, RAN_STATUSES)
        fraction[~ran] = 0.0
        self.fraction, self.ran = fraction, ran
        self.planned_reports = np.exp(rng.uniform(math.log(20), math.log(20_000), n)).astype(np.int64)
        self.step = np.array([1, 10, 50, 100])[rng.integers(0, 4, n)]
        planned_seconds = np.exp(rng.uniform(math.log(120), math.log(2 * DAY), n))
        self.run_time = np.where(ran, planned_seconds * np.maximum(fraction, 0.01), np.nan)

        # Times, counted back from now.
        age = rng.uniform(0.0, HISTORY_SECONDS, n)
        queue_wait = rng.uniform(5.0, 900.0, n)
        if self.stopped_pipeline is not None:  # stopped an hour and a half ago: its steps still wait
            p = self.stopped_pipeline
            age[p] = self.run_time[p] + queue_wait[p] + 60.0 + PIPELINE_STOPPED_AGO_S
        created = now - np.maximum(age, np.nan_to_num(self.run_time) + queue_wait + 60.0)
        recent = now - rng.uniform(0.05 * 3600, 3 * DAY, n)
        created = np.where(statuses == st.PENDING, recent, created)
        started = np.where(ran, created + queue_wait, np.nan)
        completed = np.where(ran, started + np.nan_to_num(self.run_time), np.nan)
        after_finish = rng.uniform(1.0, 120.0, n)
        publish_delay = rng.uniform(1800.0, 5 * DAY, n)
        last_update = np.where(np.isnan(completed), created + rng.uniform(1.0, 3600.0, n), completed + after_finish)
        published = np.isin(statuses, (st.PUBLISHED, st.PUBLISHING))
        last_update = np.where(published, completed + publish_delay, last_update)
        last_update = np.minimum(last_update, now - rng.uniform(1.0, 60.0, n))
        last_update = np.where(np.isnan(completed), last_update, np.maximum(last_update, completed))
        self.created = np.minimum(created, last_update)
        self.started = started
        self.completed = completed
        self.last_update = last_update
        self.status_changed = np.where(np.isnan(completed), np.where(ran, started, last_update),
                                       np.where(published, last_update, completed))

        # Archive some finished and draft experiments (never Pending ones).
        archivable = statuses != st.PENDING
        self.archived = archivable & (rng.random(n) < 0.05)
        if n > 11 and archivable[11]:
            self.archived[11] = True

        # Queues, workers and whether a script ran locally ("development").
        self.development = ran & (rng.random(n) < 0.4)
        worker_index = rng.integers(0, len(WORKERS), n)
        self.workers = np.where(ran & ~self.development,
                                np.array([w[0] for w in WORKERS], dtype=object)[worker_index], None)
        worker_queue = [WORKERS[w][2][0] for w in worker_index.tolist()]
        pending_queue = np.array(QUEUES, dtype=object)[rng.integers(0, len(QUEUES), n)]
        self.queues = [
            queue_ids[pending_queue[i]] if statuses[i] == st.PENDING
            else (queue_ids[worker_queue[i]] if self.workers[i] is not None else None)
            for i in range(n)]
        self.enqueue_status = _pick(rng, {st.DRAFT: 0.8, st.ABORTED: 0.15, st.FAILED: 0.05}, n)

        # Tags: zero to three each.
        tag_names = list(TAGS)
        tag_count = rng.choice(4, size=n, p=[0.35, 0.4, 0.18, 0.07])
        tag_draw = rng.integers(0, len(tag_names), (n, 3))
        self.tags = [sorted({tag_names[t] for t in tag_draw[i, :tag_count[i]].tolist()}) for i in range(n)]

        self.has_description = rng.random(n) < 0.2
        self.has_diff = rng.random(n) < 0.25
        self.has_config = np.isin(types, list(FULL_ARG_TYPES)) & (rng.random(n) < 0.9)
        self.commits = [f"{a:016x}{b:016x}{c:08x}" for a, b, c in zip(
            rng.integers(0, 2**63, n).tolist(), rng.integers(0, 2**63, n).tolist(),
            rng.integers(0, 2**31, n).tolist())]
        self.branch_pick = rng.integers(0, 10, n)
        self.gpu_count = rng.choice([0, 1, 2, 4, 8], size=n)
        self.short_name = rng.integers(1, 1000, n)

        # Curve parameters per experiment and metric (the noise is drawn with the points).
        self.curve_start = {k: rng.uniform(*m.start, n) for k, m in METRICS.items()}
        self.curve_rate = {k: rng.uniform(3.0, 6.0, n) for k in METRICS}
        self.count_target = rng.uniform(1e6, 5e7, n)

        self.parents = self._choose_parents(rng)

    def _choose_parents(self, rng: np.random.Generator) -> dict[int, int]:
        """Children of controller/optimizer runs: a finished parent adopts some of
        the experiments created after it; the stopped pipeline adopts about half
        the Pending ones, as steps it queued while it ran (their times move into
        its run)."""
        is_parent_type = np.isin(self.types, list(st.PARENT_TYPES))
        finished_parents = np.flatnonzero(is_parent_type & np.isin(self.statuses, RAN_STATUSES))
        finished_parents = finished_parents[np.argsort(self.created[finished_parents], kind="stable")]
        parent_created = self.created[finished_parents]
        draw = rng.random(self.n)
        pick = rng.random(self.n)
        parents: dict[int, int] = {}
        for i in range(self.n):
            if is_parent_type[i]:
                continue
            if self.statuses[i] == st.PENDING:
                if self.stopped_pipeline is not None and draw[i] < 0.5:
                    parents[i] = self.stopped_pipeline
                    self._queued_during_run_of(self.stopped_pipeline, i, float(pick[i]))
                continue
            earlier = int(np.searchsorted(parent_created, self.created[i]))
            if earlier and draw[i] < 0.15:
                window = finished_parents[max(0, earlier - 10):earlier]
                parents[i] = int(window[int(pick[i] * len(window))])
        return parents

    def _queued_during_run_of(self, parent: int, child: int, when: float) -> None:
        """``child`` was created at ``when`` (0..1) of ``parent``'s run and queued at once."""
        created = self.started[parent] + when * (self.completed[parent] - self.started[parent])
        self.created[child] = created
        self.last_update[child] = self.status_changed[child] = created + 1.0

    # ---- derived values --------------------------------------------------------------

    def param(self, name: str, i: int):
        return self.hyper_value(HYPER_BY_NAME[name], i)

    def hyper_value(self, spec: HyperSpec, i: int):
        if spec.name == "model":
            models = DOMAINS[self.domains[i]].models
            return models[int(self.model_pick[i] * len(models))]
        if spec.name == "dataset":
            datasets = DOMAINS[self.domains[i]].datasets
            return datasets[int(self.dataset_pick[i] * len(datasets))]
        return spec.choices[self.hyper_choice[spec.name][i]]

    def name(self, i: int) -> str:
        t = self.types[i]
        model = self.param("model", i)
        dataset = self.param("dataset", i)
        lr = self.learning_rates[i]
        templates = {
            "training": f"{model} {dataset} lr={lr:g} bs={self.param('batch_size', i)}",
            "testing": f"eval {model} on {dataset}",
            "inference": f"batch inference {model} #{self.short_name[i]}",
            "data_processing": f"preprocess {dataset} shard {self.short_name[i] % 64:02d}",
            "application": f"demo app {model}",
            "monitor": f"drift monitor {dataset}",
            "controller": f"pipeline {dataset} nightly",
            "optimizer": f"HPO {model} {dataset}",
            "service": f"serving {model}",
            "qc": f"data QC {dataset}",
            "custom": f"notebook {self.users[i]} scratch {self.short_name[i]}",
        }
        return templates[t]

    def reports(self, i: int) -> int:
        return int(self.report_counts(np.array([i]))[0])

    def report_counts(self, rows: np.ndarray) -> np.ndarray:
        """How many training reports each of ``rows`` made (its planned reports, as far as it got)."""
        return np.maximum(1, np.round(self.planned_reports[rows] * self.fraction[rows])).astype(np.int64)

    def last_iteration(self, i: int) -> int:
        """The highest iteration any of the experiment's series reaches."""
        reports, step = self.reports(i), int(self.step[i])
        return max(((max(1, reports // METRICS[k].every) - 1) * step * METRICS[k].every
                    for k in self.metric_keys(i)), default=(reports - 1) * step)

    def final_value(self, key: str, i: int) -> float:
        spec = METRICS[key]
        return spec.bad + (spec.good - spec.bad) * float(self.quality[i])

    def curve(self, key: str, i: int, t: np.ndarray) -> np.ndarray:
        """The noiseless value of ``key`` at training progress ``t`` (0..1)."""
        return self.curves(key, np.array([i]), np.asarray(t, dtype=float)[None, :])[0]

    def curves(self, key: str, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The noiseless values of ``key`` for experiments ``rows``, at progress ``t`` (one row of t each)."""
        spec = METRICS[key]
        start = self.curve_start[key][rows][:, None]
        if spec.shape == "schedule":
            return self.learning_rates[rows][:, None] * (0.01 + 0.99 * 0.5 * (1.0 + np.cos(np.pi * t)))
        if spec.shape == "flat":
            return np.broadcast_to(start, t.shape).astype(float)
        if spec.shape == "count":
            return self.count_target[rows][:, None] * t
        final = (spec.bad + (spec.good - spec.bad) * self.quality[rows])[:, None]
        return final + (start - final) * np.exp(-self.curve_rate[key][rows][:, None] * t)

    def noise_scales(self, key: str, rows: np.ndarray) -> np.ndarray:
        """How much noise each of ``rows`` has on ``key`` (a column, to broadcast over its points)."""
        spec = METRICS[key]
        scale = spec.noise * self.curve_start[key][rows] if spec.shape == "flat" else np.full(len(rows), spec.noise)
        return scale[:, None]

    def metric_keys(self, i: int) -> tuple[str, ...]:
        if not self.ran[i]:
            return ()
        return metrics_for(self.types[i], self.domains[i])


def _clip(spec: MetricSpec, values):
    if spec.low is not None or spec.high is not None:
        return np.clip(values, spec.low if spec.low is not None else -np.inf,
                       spec.high if spec.high is not None else np.inf)
    return values


# ---- Scalar series: the points behind every metric summary -------------------------------------

def _block_series(plan: _Plan, block: range, detailed: set[int]) -> dict[int, dict]:
    """The series of every experiment in ``block`` that ran, ``{index: {(metric, variant): (iterations,
    values, timestamps)}}``.

    A series reports once per ``every`` training reports of its run; an experiment in
    ``detailed`` keeps each report, the others ``THINNED_POINTS`` evenly spaced ones (the
    first and the last among them, so the last iteration does not change).
    """
    series: dict[int, dict] = {i: {} for i in block if plan.ran[i]}
    thinned = [i for i in series if i not in detailed]
    keys_of = [frozenset(plan.metric_keys(i)) for i in thinned]
    for number, (key, spec) in enumerate(METRICS.items()):
        rows = np.array([i for i, keys in zip(thinned, keys_of) if key in keys], dtype=np.int64)
        if not len(rows):
            continue
        count = np.maximum(1, plan.report_counts(rows) // spec.every)
        kept = np.minimum(count, THINNED_POINTS)
        j = np.arange(THINNED_POINTS, dtype=np.int64)[None, :]
        positions = (j * (count - 1)[:, None]) // np.maximum(kept - 1, 1)[:, None] * spec.every
        noise = np.random.default_rng([plan.seed, block.start, number]).standard_normal(positions.shape)
        iterations, values, stamps = _points(plan, key, rows, positions, noise)
        for r, (i, k) in enumerate(zip(rows.tolist(), kept.tolist())):
            series[i][(spec.metric, spec.variant)] = (iterations[r, :k], values[r, :k], stamps[r, :k])
    for i in sorted(detailed.intersection(series)):
        rng = np.random.default_rng([plan.seed, i, 1])
        rows = np.array([i])
        for key in plan.metric_keys(i):
            spec = METRICS[key]
            count = max(1, plan.reports(i) // spec.every)
            positions = np.arange(count, dtype=np.int64)[None, :] * spec.every
            iterations, values, stamps = _points(plan, key, rows, positions, rng.standard_normal(positions.shape))
            series[i][(spec.metric, spec.variant)] = (iterations[0], values[0], stamps[0])
    return series


def _points(plan: _Plan, key: str, rows: np.ndarray, positions: np.ndarray, noise: np.ndarray) -> tuple:
    """Iterations, values and timestamps of ``key`` at report ``positions`` (a row per experiment in ``rows``)."""
    spec = METRICS[key]
    t = positions / np.maximum(plan.planned_reports[rows], 1)[:, None]
    values = _clip(spec, plan.curves(key, rows, t) + plan.noise_scales(key, rows) * noise)
    iterations = positions * plan.step[rows][:, None]
    run_time = np.nan_to_num(plan.run_time[rows])
    duration = np.where(run_time > 0, run_time, 60.0)[:, None]
    stamps = plan.started[rows][:, None] + duration * (positions + 1) / plan.report_counts(rows)[:, None]
    return iterations, values, stamps


def _none_if_nan(values: np.ndarray) -> list:
    return [None if (v is None or v != v) else v for v in values.tolist()]


def _experiment_rows(plan: _Plan, block: range, last_iterations: dict[int, int]) -> list[tuple]:
    """``last_iterations``: index -> the highest iteration of its series, for the experiments that ran."""
    rows = []
    started = _none_if_nan(plan.started[block.start:block.stop])
    completed = _none_if_nan(plan.completed[block.start:block.stop])
    run_time = _none_if_nan(plan.run_time[block.start:block.stop])
    for k, i in enumerate(block):
        status = plan.statuses[i]
        ran = bool(plan.ran[i])
        progress = None
        if ran:
            progress = 100 if status not in (st.FAILED, st.ABORTED) else int(plan.fraction[i] * 100)
        message, reason = "", ""
        if status == st.FAILED:
            reason = "Script failed"
            message = ("CUDA out of memory", "NaN loss detected", "Connection reset by peer")[i % 3]
        elif status == st.ABORTED:
            reason = "Aborted by user" if i % 4 else "Forced stop (non-responsive)"
            message = "aborted"
        runtime = "{}"
        if ran:
            host = plan.workers[i].split(":")[0] if plan.workers[i] else f"{plan.users[i]}-laptop"
            runtime = json.dumps({
                "hostname": host, "os": "Linux-6.1.0-25-amd64-x86_64-with-glibc2.36",
                "python_version": "3.11.7", "cpu_cores": 16 if plan.workers[i] else 8,
                "gpu_count": int(plan.gpu_count[i]), "gpu_type": plan.param("gpu_type", i)
                if plan.gpu_count[i] else "", "progress": progress})
        description = ""
        if plan.has_description[i]:
            description = (f"Trying {plan.param('optimizer', i)} with warm-up "
                           f"{plan.param('warmup_steps', i)} steps on {plan.param('dataset', i)}.")
        rows.append((
            plan.ids[i], plan.name(i), plan.types[i], status, plan.project_ids[i], plan.users[i],
            float(plan.created[i]), started[k], float(plan.last_update[i]), completed[k],
            float(plan.status_changed[i]),
            last_iterations.get(i),
            progress, description, message, reason,
            plan.enqueue_status[i] if status == st.PENDING else None,
            bool(plan.archived[i]), plan.queues[i], plan.workers[i], run_time[k],
            bool(plan.development[i]), runtime,
        ))
    return rows


EXPERIMENT_FIELDS = (
    "id", "name", "type", "status", "project", "user", "created", "started", "last_update", "completed",
    "status_changed", "last_iteration", "progress", "description", "status_message", "status_reason",
    "enqueue_status", "archived", "queue", "worker", "run_time", "development", "runtime",
)

EXECUTION_FIELDS = ("experiment", "repository", "branch", "commit", "entry_point", "entry_kind", "working_dir",
                    "binary", "diff", "requirements", "environment", "container_image", "output_uri")

ENTRY_POINTS = {
    "training": "train.py", "testing": "evaluate.py", "inference": "infer.py",
    "data_processing": "acme.pipelines.preprocess", "application": "app/serve_demo.py",
    "monitor": "monitoring/drift.py", "controller": "pipelines/nightly.py", "optimizer": "hpo/optimize.py",
    "service": "serving/server.py", "qc": "qc/check_dataset.py", "custom": "notebooks/scratch.ipynb",
}
BRANCHES = ("main", "main", "main", "main", "dev", "dev", "feature/mixed-precision", "feature/new-aug",
            "fix/nan-loss", "release/2.1")


def _execution_rows(plan: _Plan, block: range) -> list[tuple]:
    rows = []
    for i in block:
        domain = DOMAINS[plan.domains[i]]
        task_type = plan.types[i]
        entry = ENTRY_POINTS[task_type]
        module = task_type == "data_processing"
        diff = ""
        if plan.has_diff[i]:
            lr = plan.learning_rates[i]
            diff = (f"diff --git a/{entry} b/{entry}\n--- a/{entry}\n+++ b/{entry}\n@@ -12,7 +12,7 @@\n"
                    f" parser = argparse.ArgumentParser()\n-parser.add_argument('--learning_rate', default=0.1)\n"
                    f"+parser.add_argument('--learning_rate', default={lr:g})\n"
                    f" parser.add_argument('--batch_size', type=int)\n")
        requirements = f"# Python 3.11.7\n{domain.packages}numpy==2.1.1\nexptable-desktop==0.1.0\n"
        rows.append((
            plan.ids[i], domain.repository, BRANCHES[plan.branch_pick[i]], plan.commits[i],
            entry, "module" if module else "script", ".", "python3.11", diff, requirements, "pip",
            "nvcr.io/nvidia/pytorch:24.05-py3" if plan.gpu_count[i] >= 4 else "",
            f"s3://acme-ml-artifacts/{plan.project_paths[i]}" if plan.workers[i] else "",
        ))
    return rows


def _format_hyper(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _hyper_rows(plan: _Plan, block: range) -> list[tuple]:
    rows = []
    light = [a for a in ARGS if a.name in LIGHT_ARGS]
    for i in block:
        exp_id = plan.ids[i]
        specs = ARGS + GENERAL if plan.types[i] in FULL_ARG_TYPES else light
        for spec in specs:
            rows.append((exp_id, spec.section, spec.name, _format_hyper(plan.hyper_value(spec, i)),
                         spec.type, spec.description))
        for spec in PROPERTIES:
            if plan.property_mask[spec.name][i]:
                rows.append((exp_id, spec.section, spec.name, plan.hyper_value(spec, i), spec.type, ""))
    return rows


def _config_rows(plan: _Plan, block: range) -> list[tuple]:
    rows = []
    for i in block:
        if not plan.has_config[i]:
            continue
        text = (f"model:\n  name: {plan.param('model', i)}\n  dropout: {plan.param('dropout', i)}\n"
                f"data:\n  dataset: {plan.param('dataset', i)}\n  num_workers: {plan.param('num_workers', i)}\n"
                f"optim:\n  name: {plan.param('optimizer', i)}\n  lr: {plan.learning_rates[i]:g}\n"
                f"  weight_decay: {plan.param('weight_decay', i)}\n  scheduler: {plan.param('scheduler', i)}\n")
        rows.append((plan.ids[i], "General", "Training configuration (OmegaConf)", "yaml", text))
    return rows


def _artifact_rows(plan: _Plan, block: range, detailed: set[int]) -> list[tuple]:
    rows = []
    for i in block:
        if i in detailed or plan.types[i] != "training" or plan.statuses[i] not in RAN_STATUSES:
            continue
        exp_id = plan.ids[i]
        size = int(5_000_000 + (int(exp_id[:6], 16) % 400_000_000))
        rows.append((exp_id, "model_best", "model", "output",
                     f"s3://acme-ml-artifacts/{plan.project_paths[i]}/{exp_id}/model_best.pt", False, size,
                     exp_id[::-1] + exp_id, "application/x-pytorch", "", "{}", float(plan.completed[i])))
    return rows


ARTIFACT_FIELDS = ("experiment", "name", "kind", "mode", "uri", "in_storage", "size", "hash", "content_type",
                   "preview", "metadata", "created")


# ---- Detailed experiments: real curves, console, plots, images, files ------------------------------

def _console_lines(plan: _Plan, i: int) -> list[tuple[str, str]]:
    status = plan.statuses[i]
    model = plan.param("model", i)
    dataset = plan.param("dataset", i)
    lines = [("info", f"ExpTable task id={plan.ids[i]}"),
             ("info", f"Loading dataset {dataset} ..."),
             ("info", f"Building model {model} (lr={plan.learning_rates[i]:g})")]
    if plan.gpu_count[i] == 0:
        lines.append(("warning", "UserWarning: CUDA is not available; training on CPU will be slow"))
    epochs = int(plan.param("epochs", i))
    done = max(1, int(epochs * plan.fraction[i]))
    keys = plan.metric_keys(i)
    if "loss/train" in keys:
        for epoch in range(done):
            loss = float(plan.curve("loss/train", i, np.array([(epoch + 1) / epochs]))[0])
            for batch in range(0, 5):
                lines.append(("info", f"epoch {epoch + 1}/{epochs} batch {batch * 200}/1000 "
                                      f"loss={loss * (1.02 - 0.01 * batch):.4f}"))
            lines.append(("info", f"epoch {epoch + 1} done: val_loss={loss * 1.1:.4f}"))
    elif keys:
        # Evaluation, inference and data jobs log their own first metric, not a training loss.
        key = keys[0]
        for step in range(done):
            value = float(plan.curve(key, i, np.array([(step + 1) / epochs]))[0])
            lines.append(("info", f"step {step + 1}/{epochs}: {key.replace('/', '.')}={value:.4g}"))
    if status == st.FAILED:
        lines += [("error", "Traceback (most recent call last):"),
                  ("error", '  File "train.py", line 142, in <module>'),
                  ("error", "    loss.backward()"),
                  ("error", "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")]
    elif status == st.ABORTED:
        lines.append(("warning", "Received abort request, stopping"))
    else:
        lines.append(("info", "Training finished; uploading model_best.pt"))
    return lines


def _console_rows(plan: _Plan, i: int) -> list[tuple]:
    lines = _console_lines(plan, i)
    started = float(plan.started[i])
    duration = float(np.nan_to_num(plan.run_time[i])) or 60.0
    rows = []
    seq = first_line = 0
    start = 0
    while start < len(lines):
        level = lines[start][0]
        end = start
        while end < len(lines) and lines[end][0] == level and end - start < 200:
            end += 1
        stamp = started + duration * start / len(lines)
        rows.append((plan.ids[i], seq, first_line, end - start, level, stamp,
                     "\n".join(text for _, text in lines[start:end])))
        seq += 1
        first_line += end - start
        start = end
    return rows


def _plot_rows(plan: _Plan, i: int, rng: np.random.Generator) -> list[tuple]:
    """Plots in the SDK's JSON shapes (see ``exptable_desktop.sdk.logger``)."""
    exp_id = plan.ids[i]
    last_it = plan.last_iteration(i)
    stamp = float(plan.last_update[i])
    classes = ["cat", "dog", "bird", "car"] if plan.domains[i] != "text_classification" else ["neg", "pos"]
    k = len(classes)
    q = float(plan.quality[i])
    matrix = rng.integers(0, 20, (k, k)) + np.diag(rng.integers(100, 300, k) * (0.5 + q)).astype(int)
    weights = rng.standard_normal(2000) * (0.5 + q)
    counts, edges = np.histogram(weights, bins=30)
    centres = (edges[:-1] + edges[1:]) / 2
    recall = np.linspace(0, 1, 21)
    precision = np.clip(1 - (1 - q * 0.9) * recall ** 2 + 0.02 * rng.standard_normal(21), 0, 1)
    actual = rng.uniform(0, 10, 60)
    predicted = actual + rng.standard_normal(60) * (1.5 - q)
    per_class = np.clip(q * 0.9 + 0.1 * rng.random(k), 0, 1)

    def rounded(values, digits=4):
        return [round(float(v), digits) for v in values]
    plots = [
        ("confusion", "val", "confusion",
         {"matrix": matrix.astype(float).tolist(), "xlabels": classes, "ylabels": classes, "yaxis_reversed": True,
          "xaxis": "predicted", "yaxis": "actual"}),
        ("weights", "layer4.conv2", "histogram",
         {"series": [{"name": "layer4.conv2", "x": rounded(centres), "y": counts.astype(float).tolist()}],
          "xaxis": "weight", "yaxis": "count"}),
        ("per-class accuracy", "val", "bar",
         {"series": [{"name": "accuracy", "x": classes, "y": rounded(per_class)}]}),
        ("precision-recall", "val", "line",
         {"mode": "lines", "reverse_xaxis": False, "xaxis": "recall", "yaxis": "precision",
          "series": [{"name": "val", "x": rounded(recall, 3), "y": rounded(precision), "labels": None}]}),
        ("predictions", "val", "scatter",
         {"mode": "markers", "xaxis": "actual", "yaxis": "predicted",
          "series": [{"name": "val", "x": rounded(actual, 3), "y": rounded(predicted, 3), "labels": None}]}),
        ("results", "summary", "table",
         {"columns": ["class", "precision", "recall", "support"],
          "rows": [[c, round(float(np.clip(q + 0.05 * rng.standard_normal(), 0, 1)), 3),
                    round(float(np.clip(q + 0.05 * rng.standard_normal(), 0, 1)), 3), int(matrix[j].sum())]
                   for j, c in enumerate(classes)]}),
    ]
    return [(exp_id, metric, variant, last_it, kind,
             json.dumps({"kind": kind, "title": metric, "variant": variant, **data}), stamp)
            for metric, variant, kind, data in plots]


def _sample_image(rng: np.random.Generator, size: int, tint: tuple[int, int, int]) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    base = (np.sin(x * rng.uniform(3, 9)) * np.cos(y * rng.uniform(3, 9)) + 1) / 2
    img = np.stack([base * tint[0], base * tint[1], base * tint[2]], axis=-1)
    img += rng.uniform(0, 40, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _debug_sample_rows(plan: _Plan, i: int, rng: np.random.Generator) -> list[tuple]:
    """PNG files where the SDK puts them: ``<experiment folder>/debug/<title>/<series>/<iteration>.png``."""
    exp_id = plan.ids[i]
    folder = store_files.experiment_folder(exp_id) / "debug" / "samples"
    last_it = plan.last_iteration(i)
    duration = float(np.nan_to_num(plan.run_time[i]))
    rows = []
    for it in sorted({0, last_it // 2, last_it}):
        for variant, tint in (("input", (200, 170, 120)), ("prediction", (90, 160, 230))):
            path = folder / variant / f"{it}.png"
            write_png(path, _sample_image(rng, 48, tint))
            rows.append((exp_id, "samples", variant, it, str(path), "image/png",
                         float(plan.started[i]) + (it + 1) / (last_it + 1) * duration))
    return rows


def _stored_artifacts(plan: _Plan, i: int) -> list[tuple]:
    exp_id = plan.ids[i]
    folder = store_files.experiment_folder(exp_id) / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    metrics = {key: round(float(plan.final_value(key, i)), 4) for key in plan.metric_keys(i)
               if METRICS[key].shape in ("up", "down")}
    metrics_file = folder / "metrics.json"
    metrics_file.write_text(json.dumps(metrics, indent=2))
    predictions = folder / "predictions.csv"
    predictions.write_text("id,label,score\n" + "".join(
        f"{j},{('cat', 'dog')[j % 2]},{(j * 37 % 100) / 100:.2f}\n" for j in range(50)))
    created = float(plan.last_update[i])
    rows = [
        (exp_id, "metrics", "artifact", "output", metrics_file.as_uri(), True, metrics_file.stat().st_size,
         "", "application/json", json.dumps(metrics)[:200], json.dumps({"format": "json"}), created),
        (exp_id, "predictions", "artifact", "output", predictions.as_uri(), True, predictions.stat().st_size,
         "", "text/csv", predictions.read_text()[:120], json.dumps({"rows": 50}), created),
        (exp_id, "dataset", "artifact", "input",
         f"s3://acme-ml-data/{plan.param('dataset', i)}/train.tar", False, 1_200_000_000, "", "application/x-tar",
         "", json.dumps({"split": "train"}), created),
    ]
    if plan.types[i] == "training" and plan.statuses[i] in RAN_STATUSES:
        rows.append((exp_id, "model_best", "model", "output",
                     f"s3://acme-ml-artifacts/{plan.project_paths[i]}/{exp_id}/model_best.pt", False, 98_000_000,
                     "", "application/x-pytorch", "", "{}", created))
    return rows


def _write_detailed(plan: _Plan, i: int, with_images: bool) -> None:
    """The outputs besides scalars of an experiment in ``detailed``."""
    rng = np.random.default_rng([plan.seed, i])
    exp_id = plan.ids[i]
    stamp = float(plan.last_update[i])
    singles = [(exp_id, name, value, stamp) for name, value in (
        ("test_accuracy", round(float(plan.final_value("accuracy/val", i)) - 0.01, 4)),
        ("test_loss", round(float(plan.final_value("loss/val", i)) * 1.05, 4)),
        ("parameters_millions", float(11 + int(exp_id[:4], 16) % 300)),
        ("train_hours", round(float(np.nan_to_num(plan.run_time[i])) / 3600, 3)))]
    insert_rows(SingleValue, ("experiment", "name", "value", "timestamp"), singles)
    insert_rows(ConsoleChunk, ("experiment", "seq", "first_line", "line_count", "level", "timestamp", "text"),
                 _console_rows(plan, i))
    if plan.types[i] in ("training", "testing", "qc", "custom"):
        insert_rows(Plot, ("experiment", "metric", "variant", "iteration", "kind", "data", "timestamp"),
                     _plot_rows(plan, i, rng))
    if with_images:
        insert_rows(DebugSample, ("experiment", "metric", "variant", "iteration", "path", "content_type",
                                   "timestamp"), _debug_sample_rows(plan, i, rng))
    insert_rows(Artifact, ARTIFACT_FIELDS, _stored_artifacts(plan, i))


# ---- Entry point -------------------------------------------------------------------------------------

def _prepare_shared_rows(now: float) -> tuple[dict[str, int], dict[str, int]]:
    """Projects, queues, tags and workers: few rows, created through the ORM if missing
    (inside the demo's transaction)."""
    project_ids = {path: get_or_create_project(path).id for path, _, _ in PROJECTS}
    queue_ids = {name: get_or_create_queue(name, now).id for name in QUEUES}
    for name, colours in TAGS.items():
        tag = Tag.get_or_none(Tag.name == name) or Tag.create(name=name)
        if colours and tag.background is None:
            Tag.update(background=colours[0], foreground=colours[1]).where(Tag.id == tag.id).execute()
    for name, host, queues in WORKERS:
        if Worker.get_or_none(Worker.name == name) is None:
            Worker.create(name=name, host=host, status="idle", started=now - 30 * DAY, last_seen=now - 3600,
                          resources=json.dumps({"gpus": 1 if "gpu" in name else 0}))
        for queue in queues:
            (WorkerQueue.insert(worker=name, queue=queue_ids[queue])
             .on_conflict_ignore().execute())
    return project_ids, queue_ids


def make_demo(n_experiments: int, seed: int = 1, *, detailed: int = 200, images: int = 50,
              now: float | None = None, on_progress: Callable[[int, int], None] | None = None) -> DemoStats:
    """Add ``n_experiments`` demo experiments to the open database.

    ``detailed``: how many of the first experiments that ran get every report of
    their curves (the others get ``THINNED_POINTS`` per series), console output,
    plots and artifact files; ``images``: how many of those
    also get debug-sample PNGs. ``now`` pins the clock (for reproducible
    files); ``on_progress(done, total)`` is called after each block.

    All or nothing: everything goes in one transaction, so an interrupted demo
    (an exception, Ctrl-C, ``kill -9``) leaves the database as it was and can
    simply be run again. Other writers wait for the lock meanwhile (a few
    seconds for the default 1,000 experiments). Files of an interrupted demo
    are removed, except after ``kill -9``: those stay unreferenced where the
    same seed writes them again.
    """
    if n_experiments < 1:
        raise DemoError("the demo needs at least one experiment")
    if detailed < 0 or images < 0:
        raise DemoError("detailed and images cannot be negative")
    require_writable()
    clock = time.perf_counter()
    now = time.time() if now is None else float(now)
    filled: list[str] = []  # experiments whose folders this call may have written files into
    try:
        with write_transaction():
            project_ids, queue_ids = _prepare_shared_rows(now)
            plan = _Plan(n_experiments, seed, now, project_ids, queue_ids)
            if Experiment.select().where(Experiment.id == plan.seed_marker).exists():
                raise DemoError(f"demo data for seed {seed} is already in this database; choose another --seed")
            ran_indices = [i for i in range(n_experiments) if plan.ran[i]]
            detailed_set = set(ran_indices[:detailed])
            filled = [plan.ids[i] for i in sorted(detailed_set)]
            stats = _write_demo(plan, detailed_set, set(ran_indices[:min(images, detailed)]), on_progress)
    except BaseException:
        # The transaction rolled back: the files written for it would belong to nothing.
        for exp_id in filled:
            shutil.rmtree(store_files.experiment_folder(exp_id), ignore_errors=True)
        raise
    stats.seconds = time.perf_counter() - clock
    return stats


def _write_demo(plan: _Plan, detailed_set: set[int], imaged: set[int],
                on_progress: Callable[[int, int], None] | None) -> DemoStats:
    """Every row of the demo, inside the caller's write transaction."""
    n_experiments = len(plan.ids)
    tag_ids = {t.name: t.id for t in Tag.select().where(Tag.name.in_(list(TAGS)))}
    stats = DemoStats(experiments=n_experiments, detailed=len(detailed_set))
    pending_by_queue: dict[int, list[int]] = {}

    for start in range(0, n_experiments, BLOCK_SIZE):
        block = range(start, min(start + BLOCK_SIZE, n_experiments))
        chunks, summaries, last_iterations = [], [], {}
        for i, grouped in _block_series(plan, block, detailed_set).items():
            series_chunks, series_summaries, last_iterations[i] = new_series_rows(plan.ids[i], grouped)
            chunks += series_chunks
            summaries += series_summaries
        insert_rows(Experiment, EXPERIMENT_FIELDS, _experiment_rows(plan, block, last_iterations))
        insert_rows(Execution, EXECUTION_FIELDS, _execution_rows(plan, block))
        stats.hyperparameters += insert_rows(
            HyperParam, ("experiment", "section", "name", "value", "type", "description"), _hyper_rows(plan, block))
        insert_rows(ConfigObject, ("experiment", "name", "description", "content_type", "value"),
                     _config_rows(plan, block))
        insert_rows(ExperimentTag, ("experiment", "tag"),
                     [(plan.ids[i], tag_ids[t]) for i in block for t in plan.tags[i]])
        stats.metric_summaries += insert_dicts(MetricSummary, summaries)
        insert_dicts(ScalarChunk, chunks)
        stats.scalar_points += sum(chunk["count"] for chunk in chunks)
        insert_rows(Artifact, ARTIFACT_FIELDS, _artifact_rows(plan, block, detailed_set))
        for i in block:
            if i in detailed_set:
                _write_detailed(plan, i, i in imaged)
            if plan.statuses[i] == st.PENDING:
                pending_by_queue.setdefault(plan.queues[i], []).append(i)
        if on_progress:
            on_progress(block.stop, n_experiments)

    # Parent links go in after every row exists (a parent may come later in the plan).
    set_experiment_parents((plan.ids[parent], plan.ids[child]) for child, parent in sorted(plan.parents.items()))
    _enqueue_pending(plan, pending_by_queue)
    return stats


def _enqueue_pending(plan: _Plan, pending_by_queue: dict[int, list[int]]) -> None:
    rows = []
    for queue_id, indices in pending_by_queue.items():
        last = QueueEntry.select(fn.MAX(QueueEntry.position)).where(QueueEntry.queue == queue_id).scalar() or 0.0
        for k, i in enumerate(sorted(indices, key=lambda j: plan.status_changed[j])):
            rows.append((queue_id, plan.ids[i], last + k + 1, float(plan.status_changed[i])))
    insert_rows(QueueEntry, ("queue", "experiment", "position", "added"), rows)


def database_is_empty() -> bool:
    """True when there is nothing to look at: no projects and no experiments."""
    return not Experiment.select().exists() and not Project.select().exists()
