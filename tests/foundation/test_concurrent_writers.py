"""Several processes writing into one database at once: no "database is locked", no lost writes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.projects import find_project
from exptable_desktop.store.schema import (
    Experiment,
    ExperimentTag,
    MetricSummary,
    Project,
    Queue,
    QueueEntry,
    Tag,
)
from exptable_desktop.store.series import count_points

WRITERS = 4
ROUNDS = 15
POINTS = 50

# Each writer opens the (possibly still missing) database itself and mixes
# every kind of write: creating experiments and projects, recording outputs,
# tagging, queueing and dequeuing, all on shared names.
WRITER = textwrap.dedent("""
    import json, sys, time
    from exptable_desktop.store import open_database
    from exptable_desktop.core import actions, recording, editing

    url, writer, rounds, points, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    while time.time() < start_at:
        time.sleep(0.005)
    open_database(url)
    made = []
    for k in range(rounds):
        exp = recording.create_experiment(f"Shared/Team{k % 3}", f"w{writer} r{k}", tags=["common", f"w{writer}"])
        editing.require(editing.set_hyperparams([exp], "Args", {"k": k}))
        recording.record_batch(exp, scalars={("loss", "train"): (list(range(points)), [1.0] * points,
                                                                   [time.time()] * points)},
                               console=[(time.time(), "info", f"line {k}")])
        actions.add_tags([exp], ["tagged", f"round{k}"])
        assert actions.enqueue([exp], "shared-queue").succeeded == [exp]
        if k % 2:
            assert actions.dequeue([exp]).succeeded == [exp]
        made.append(exp)
    print(json.dumps(made))
""")


@pytest.mark.both_backends
def test_processes_write_at_once_without_losing_anything(db_url, tmp_path):
    import time

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "EXPTABLE_FILES": str(tmp_path / "files")}
    start_at = time.time() + 2.0  # all start writing together, after their imports
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(w), str(ROUNDS), str(POINTS),
                               str(start_at)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for w in range(WRITERS)]
    made = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
        made.extend(json.loads(out))

    from exptable_desktop.store import close_database, open_database
    open_database(db_url)
    try:
        total = WRITERS * ROUNDS
        assert len(set(made)) == total
        assert Experiment.select().count() == total
        assert Project.select().where(Project.name == "Shared").count() == 1, "a project path is created once"
        assert Project.select().where(Project.parent == find_project("Shared").id).count() == 3
        assert count_points() == total * POINTS
        assert MetricSummary.select().where(MetricSummary.count == POINTS).count() == total
        assert Tag.select().where(Tag.name == "common").count() == 1 and Queue.select().count() == 1
        common = Tag.get(Tag.name == "common")
        assert ExperimentTag.select().where(ExperimentTag.tag == common).count() == total
        assert ExperimentTag.select().count() == total * 4  # common, wN, tagged, roundK
        queued = Experiment.select().where(Experiment.status == st.PENDING).count()
        assert queued == WRITERS * ((ROUNDS + 1) // 2) == QueueEntry.select().count()
        positions = [p for (p,) in QueueEntry.select(QueueEntry.position).tuples()]
        assert len(set(positions)) == len(positions), "queue positions are unique"
    finally:
        close_database()
