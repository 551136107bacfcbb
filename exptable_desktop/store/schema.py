"""The peewee schema: every entity ExpTable keeps, in one place.

Times are stored as UNIX epoch seconds (float). That keeps them timezone-free,
identical on SQLite and PostgreSQL, and loadable straight into numpy arrays.
"""
from __future__ import annotations

import uuid

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BlobField,
    BooleanField,
    DatabaseProxy,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
)

from exptable_desktop.store.remote_urls import RepositoryUrlField
from exptable_desktop.store.text import LongTextField, NameField

database_proxy = DatabaseProxy()


def new_id() -> str:
    return uuid.uuid4().hex


class BaseModel(Model):
    """The base of every table: bound to the open database through ``database_proxy``."""
    class Meta:
        database = database_proxy
        legacy_table_names = False


# ---- Schema bookkeeping -------------------------------------------------

class SchemaVersion(BaseModel):
    """The schema version this database was migrated to (store.migrations), and when."""
    version = IntegerField()
    migrated_at = DoubleField()


# ---- Projects and experiments -------------------------------------------

class Project(BaseModel):
    """A project; sub-projects point at their parent, and the full path joins the names with "/"."""
    id = AutoField()
    name = NameField(max_length=255)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="CASCADE")
    description = LongTextField(default="")
    created = DoubleField()

    class Meta:
        indexes = ((("parent", "name"), True),)


class Queue(BaseModel):
    """A named queue experiments wait in to be run by an agent."""
    id = AutoField()
    name = NameField(max_length=255, unique=True)
    created = DoubleField()
    last_update = DoubleField()


class Experiment(BaseModel):
    """One experiment (a ClearML task): its identity, life cycle, progress and the counters the table shows."""
    id = NameField(max_length=32, primary_key=True, default=new_id)
    name = NameField(max_length=1024)
    type = NameField(max_length=32, default="training")
    status = NameField(max_length=32, default="created", index=True)
    project = ForeignKeyField(Project, backref="experiments", on_delete="CASCADE")
    user = NameField(max_length=255, default="", index=True)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    created = DoubleField()
    started = DoubleField(null=True)
    last_update = DoubleField(index=True)
    completed = DoubleField(null=True)
    status_changed = DoubleField(null=True)
    last_iteration = BigIntegerField(null=True)
    progress = IntegerField(null=True)
    description = LongTextField(default="")
    status_message = LongTextField(default="")
    status_reason = LongTextField(default="")
    enqueue_status = NameField(max_length=32, null=True)
    archived = BooleanField(default=False)
    queue = ForeignKeyField(Queue, null=True, backref="experiments", on_delete="SET NULL")
    worker = NameField(max_length=255, null=True)
    run_time = DoubleField(null=True)  # active duration, seconds
    # A locally run script (as opposed to one started by an agent): Abort
    # stops it directly instead of waiting for a worker.
    development = BooleanField(default=False)
    runtime = LongTextField(default="{}")  # JSON: host, OS, CPU, GPU, ... (INFO tab)
    heartbeat = DoubleField(null=True)
    # Which write last touched the row, in commit order: stamped by a database trigger (see
    # ChangeCounter), whatever the writer sets; what a refresh asks about, not last_update.
    change_seq = BigIntegerField(default=0, index=True, constraints=[SQL("DEFAULT 0")])

    class Meta:
        indexes = ((("project", "archived"), False),)


class DeletedExperiment(BaseModel):
    """Tombstones, so a refresh can ask which rows went away since its last look."""
    experiment_id = NameField(max_length=32, index=True)
    deleted_at = DoubleField(index=True)
    change_seq = BigIntegerField(default=0, index=True, constraints=[SQL("DEFAULT 0")])


class ChangeCounter(BaseModel):
    """One row (id 1): the last change sequence number handed out.

    Database triggers (store.migrations, step 3) take the next number for every write to
    ``experiment`` and ``deleted_experiment`` and stamp the row's ``change_seq`` with it. The
    counter row is locked until the writer commits, so numbers follow commit order: once a reader
    sees the counter at N, every row stamped N or less is committed and visible to it.
    Wall clocks cannot give that: a writer's clock may lag, and its rows commit long after the
    time it wrote into them.
    """
    id = IntegerField(primary_key=True)
    value = BigIntegerField()


class Execution(BaseModel):
    """How an experiment runs: repository, commit, entry point, uncommitted changes, packages, container."""
    experiment = ForeignKeyField(Experiment, primary_key=True, backref="execution_rows",
                                 on_delete="CASCADE")
    repository = RepositoryUrlField(default="")
    branch = NameField(max_length=255, default="")
    tag = NameField(max_length=255, default="")
    commit = NameField(max_length=64, default="")
    entry_point = LongTextField(default="")
    entry_kind = NameField(max_length=16, default="script")  # script | module
    working_dir = LongTextField(default="")
    binary = NameField(max_length=255, default="")
    diff = LongTextField(default="")
    requirements = LongTextField(null=True)
    environment = NameField(max_length=32, default="pip")  # pip | conda | poetry | none
    container_image = LongTextField(default="")
    container_args = LongTextField(default="")
    container_setup = LongTextField(default="")
    output_uri = LongTextField(default="")


class Tag(BaseModel):
    """A tag name, with the colours people chose for it."""
    id = AutoField()
    name = NameField(max_length=255, unique=True)
    background = NameField(max_length=16, null=True)
    foreground = NameField(max_length=16, null=True)


class ExperimentTag(BaseModel):
    """That an experiment carries a tag."""
    experiment = ForeignKeyField(Experiment, backref="tag_links", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="experiment_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("experiment", "tag"), True),)


class HyperParam(BaseModel):
    """A hyperparameter; user properties are the section ``properties``."""
    experiment = ForeignKeyField(Experiment, backref="hyperparams", on_delete="CASCADE")
    section = NameField(max_length=255)
    name = NameField(max_length=255)
    value = LongTextField(default="")
    type = NameField(max_length=64, default="")
    description = LongTextField(default="")
    default = LongTextField(null=True)

    class Meta:
        indexes = ((("experiment", "section", "name"), True), (("section", "name"), False))


class ConfigObject(BaseModel):
    """A named configuration object of an experiment (a JSON, YAML, HOCON or text document)."""
    experiment = ForeignKeyField(Experiment, backref="configs", on_delete="CASCADE")
    name = NameField(max_length=255)
    description = LongTextField(default="")
    content_type = NameField(max_length=64, default="")  # json | yaml | text | hocon
    value = LongTextField(default="")

    class Meta:
        indexes = ((("experiment", "name"), True),)


# ---- Outputs -------------------------------------------------------------

class MetricSummary(BaseModel):
    """Per experiment/metric/variant summary; what the table's metric columns show.

    ``min``/``max`` ignore NaN; ``last`` is the value as reported.
    """
    experiment = ForeignKeyField(Experiment, backref="metric_summaries", on_delete="CASCADE")
    metric = NameField(max_length=255)
    variant = NameField(max_length=255)
    first = DoubleField(null=True)
    last = DoubleField(null=True)
    min = DoubleField(null=True)
    max = DoubleField(null=True)
    total = DoubleField(default=0.0)  # sum of finite values, for the mean
    finite_count = IntegerField(default=0)
    count = IntegerField(default=0)
    last_iteration = BigIntegerField(null=True)
    min_iteration = BigIntegerField(null=True)
    max_iteration = BigIntegerField(null=True)

    class Meta:
        indexes = ((("experiment", "metric", "variant"), True), (("metric", "variant"), False))


class ScalarChunk(BaseModel):
    """A run of points of one series, stored as packed numpy arrays.

    One row per point would make a 1M-point series a 1M-row read; chunks of a
    few thousand points make it a few hundred rows of bytes.
    """
    experiment = ForeignKeyField(Experiment, backref="scalar_chunks", on_delete="CASCADE")
    metric = NameField(max_length=255)
    variant = NameField(max_length=255)
    seq = IntegerField()
    count = IntegerField()
    first_iteration = BigIntegerField()
    last_iteration = BigIntegerField()
    iterations = BlobField()  # int64 little-endian
    values = BlobField()  # float64 little-endian
    timestamps = BlobField()  # float64 epoch seconds

    class Meta:
        indexes = ((("experiment", "metric", "variant", "seq"), True),)


class SingleValue(BaseModel):
    """A single named number an experiment reported (``report_single_value``), not a series."""
    experiment = ForeignKeyField(Experiment, backref="single_values", on_delete="CASCADE")
    name = NameField(max_length=255)
    value = DoubleField(null=True)
    timestamp = DoubleField()

    class Meta:
        indexes = ((("experiment", "name"), True),)


class Plot(BaseModel):
    """A non-time-series plot sample: line, scatter, bar, histogram, table, confusion."""
    experiment = ForeignKeyField(Experiment, backref="plots", on_delete="CASCADE")
    metric = NameField(max_length=255)
    variant = NameField(max_length=255)
    iteration = BigIntegerField(default=0)
    kind = NameField(max_length=32)
    data = LongTextField()  # JSON
    timestamp = DoubleField()

    class Meta:
        indexes = ((("experiment", "metric", "variant", "iteration"), False),)


class DebugSample(BaseModel):
    """An image, audio or other file an experiment reported at an iteration (inline if small, else a path or URI)."""
    experiment = ForeignKeyField(Experiment, backref="debug_samples", on_delete="CASCADE")
    metric = NameField(max_length=255)
    variant = NameField(max_length=255)
    iteration = BigIntegerField(default=0)
    path = LongTextField(default="")  # file in our storage, or an external URI
    content_type = NameField(max_length=64, default="image/png")
    data = BlobField(null=True)  # small samples kept inline
    timestamp = DoubleField()

    class Meta:
        indexes = ((("experiment", "metric", "variant", "iteration"), False),)


class ConsoleChunk(BaseModel):
    """Consecutive console lines of one level, written in one flush.

    ``first_line`` is the 0-based index of the chunk's first line in the whole
    log, so a viewer can load any window of lines lazily.
    """
    experiment = ForeignKeyField(Experiment, backref="console_chunks", on_delete="CASCADE")
    seq = IntegerField()
    first_line = IntegerField()
    line_count = IntegerField()
    level = NameField(max_length=16, default="info")
    timestamp = DoubleField()
    text = LongTextField()

    class Meta:
        indexes = ((("experiment", "seq"), True), (("experiment", "first_line"), False))


class Artifact(BaseModel):
    """A file or model an experiment used (input) or produced (output), stored by us or elsewhere."""
    experiment = ForeignKeyField(Experiment, backref="artifacts", on_delete="CASCADE")
    name = NameField(max_length=255)
    kind = NameField(max_length=16, default="artifact")  # artifact | model
    mode = NameField(max_length=16, default="output")  # input | output
    uri = LongTextField(default="")
    in_storage = BooleanField(default=False)  # a file we own; Delete/Reset remove it
    size = IntegerField(null=True)
    hash = NameField(max_length=128, default="")
    content_type = NameField(max_length=128, default="")
    preview = LongTextField(default="")
    metadata = LongTextField(default="{}")  # JSON
    created = DoubleField()

    class Meta:
        indexes = ((("experiment", "kind", "mode", "name"), True),)


# ---- Orchestration ---------------------------------------------------------

class QueueEntry(BaseModel):
    """An experiment waiting in a queue, at its position."""
    queue = ForeignKeyField(Queue, backref="entries", on_delete="CASCADE")
    experiment = ForeignKeyField(Experiment, unique=True, backref="queue_entries",
                                 on_delete="CASCADE")
    position = DoubleField()
    added = DoubleField()

    class Meta:
        indexes = ((("queue", "position"), False),)


class Worker(BaseModel):
    """An agent that takes experiments from queues: its host, state, current experiment and resources."""
    name = NameField(max_length=255, primary_key=True)
    host = NameField(max_length=255, default="")
    status = NameField(max_length=32, default="idle")  # idle | busy | stopped
    current_experiment = ForeignKeyField(Experiment, null=True, on_delete="SET NULL")
    started = DoubleField()
    last_seen = DoubleField()
    resources = LongTextField(default="{}")  # JSON


class WorkerQueue(BaseModel):
    """That a worker listens to a queue."""
    worker = ForeignKeyField(Worker, backref="queue_links", on_delete="CASCADE")
    queue = ForeignKeyField(Queue, backref="worker_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("worker", "queue"), True),)


class WorkerStat(BaseModel):
    """One sample of a worker's machine statistics (CPU, GPU, memory, network)."""
    worker = ForeignKeyField(Worker, backref="stats", on_delete="CASCADE")
    timestamp = DoubleField()
    data = LongTextField()  # JSON: cpu, gpu, memory, network

    class Meta:
        indexes = ((("worker", "timestamp"), False),)


# ---- Per-user state ----------------------------------------------------------

class SavedView(BaseModel):
    """A table layout. ``scope`` names a project view ("project:3:flat"),
    ``name`` is "" for the layout last used there, else a named saved view."""
    user = NameField(max_length=255)
    scope = NameField(max_length=255)
    name = NameField(max_length=255, default="")
    state = LongTextField()  # JSON, versioned inside
    updated = DoubleField()

    class Meta:
        indexes = ((("user", "scope", "name"), True),)


class Preference(BaseModel):
    """A per-user setting, as JSON (the user "" holds database-wide ones)."""
    user = NameField(max_length=255)
    key = NameField(max_length=255)
    value = LongTextField()  # JSON

    class Meta:
        indexes = ((("user", "key"), True),)


ALL_MODELS = [
    SchemaVersion, Project, Queue, Experiment, DeletedExperiment, ChangeCounter, Execution, Tag,
    ExperimentTag, HyperParam, ConfigObject, MetricSummary, ScalarChunk, SingleValue, Plot, DebugSample,
    ConsoleChunk, Artifact, QueueEntry, Worker, WorkerQueue, WorkerStat, SavedView, Preference,
]

# Everything an experiment owns, child tables first; used by Delete and Reset.
EXPERIMENT_OUTPUT_MODELS = [MetricSummary, ScalarChunk, SingleValue, Plot, DebugSample, ConsoleChunk]
