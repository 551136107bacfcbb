"""Several agents on one queue: every entry runs exactly once."""
from __future__ import annotations

import collections

import pytest

from agent_support import console_text, start_agent, stop_agent, wait_until

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.core.create import create_from_spec
from exptable_desktop.store.schema import Experiment, QueueEntry

AGENTS = 4
ENTRIES = 200  # the 4 agents x 200 entries


@pytest.mark.slow
@pytest.mark.both_backends
def test_four_agents_run_each_entry_exactly_once(db, db_url, script_env, make_spec, tmp_path):
    # A plain folder (copied, not cloned): what is under test is claiming, so each run is kept cheap.
    code = tmp_path / "plain-code"
    code.mkdir()
    (code / "plain.py").write_text('print("plain out")\n')
    template = create_from_spec(make_spec("plain.py", name="template", repository=str(code)))
    ids = [actions.clone([template]).created[template] for _ in range(ENTRIES)]
    actions.enqueue(ids, "shared")
    agents = [start_agent(script_env, db_url, "--queue", "shared", "--name", f"agent{i}") for i in range(AGENTS)]
    try:
        wait_until(lambda: Experiment.select().where(Experiment.id.in_(ids) & Experiment.status.in_(
            [st.PENDING, st.RUNNING])).count() == 0, 240, interval=0.2, what="every entry to run")
    finally:
        outputs = [stop_agent(agent) for agent in agents]
    assert all(agent.returncode == 0 for agent in agents), [err for _out, err in outputs]
    rows = list(Experiment.select(Experiment.id, Experiment.status, Experiment.worker).where(Experiment.id.in_(ids)))
    assert [r.status for r in rows] == [st.COMPLETED] * ENTRIES
    assert QueueEntry.select().count() == 0
    for exp_id in ids:
        text = console_text(exp_id)
        assert text.count("pulled experiment") == 1 and text.count("plain out") == 1, text
    # Each agent reports what it ran; together they ran every entry once.
    ran = collections.Counter(line.split()[3].rstrip(":") for out, _err in outputs for line in out.splitlines()
                              if line.endswith(": Completed"))
    assert sorted(ran) == sorted(ids) and set(ran.values()) == {1}
    per_worker = collections.Counter(r.worker for r in rows)
    assert set(per_worker) <= {f"agent{i}" for i in range(AGENTS)} and len(per_worker) >= 2
