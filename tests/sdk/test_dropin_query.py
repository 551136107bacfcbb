"""``Task.get_task`` / ``get_tasks`` / ``query_tasks`` honour every filter of the reference; clone and enqueue."""
from __future__ import annotations

import pytest

from exptable_desktop.core import actions, recording
from exptable_desktop.core import states as st
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import Experiment, QueueEntry

pytestmark = pytest.mark.both_backends


def _make(project: str, name: str, status: str = st.COMPLETED, tags=(), task_type: str = "training",
          archived: bool = False, updated: float = 0.0, description: str = "", user: str = "tester") -> str:
    exp_id = recording.create_experiment(project, name, status=status, tags=list(tags), task_type=task_type,
                                         description=description, user=user)
    stamp = 1_700_000_000 + updated

    def work():
        Experiment.update(last_update=stamp, created=stamp, archived=archived).where(Experiment.id == exp_id).execute()
    run_write(work)
    return exp_id


@pytest.fixture
def runs(db):
    return {
        "old": _make("team/vision", "train", tags=["best"], updated=1),
        "failed": _make("team/vision", "train", status=st.FAILED, tags=["debug"], updated=3),
        "archived": _make("team/vision", "train", tags=["best"], archived=True, updated=5),
        "draft": _make("team/vision", "train-large", status=st.DRAFT, tags=["best", "big"], updated=2,
                       description="the large one", task_type="testing"),
        "other": _make("team/audio", "train", tags=["best"], updated=4, user="someone"),
    }


def test_get_task_is_the_most_recently_updated_match_whatever_its_status(runs):
    from exptable_desktop import Task

    # As the reference: no status filter of its own; an archived match only when nothing else matches.
    assert Task.get_task(project_name="team/vision", task_name="train").id == runs["failed"]
    assert Task.get_task(project_name="team/vision", task_name="train", allow_archived=False).id == runs["failed"]
    assert Task.get_task(project_name="team/vision", task_name="train",
                         task_filter={"status": ["completed"]}).id == runs["old"]
    assert Task.get_task(project_name="team/vision", task_name="train", tags=["best"]).id == runs["old"]
    assert Task.get_task(project_name="team/vision", task_name="train", tags=["-debug"]).id == runs["old"]
    assert Task.get_task(project_name="team/vision", task_name="train",
                         task_filter={"system_tags": ["archived"]}).id == runs["archived"]
    assert Task.get_task(task_name="train", task_filter={"user": ["someone"]}).id == runs["other"]
    assert Task.get_task(project_name="team/vision", task_name="train", tags=["nothing"]) is None
    assert Task.get_task(project_name="no/such", task_name="train") is None
    with pytest.raises(ValueError, match="task_filter key 'weird' is not supported"):
        Task.get_task(task_name="train", task_filter={"weird": 1})


def test_get_tasks_name_regex_projects_tags_and_order(runs):
    from exptable_desktop import Task

    def ids(tasks):
        return [t.id for t in tasks]

    assert ids(Task.get_tasks(project_name="team/vision", task_name="train")) == [
        runs["archived"], runs["failed"], runs["draft"], runs["old"]]  # a partial match, newest first
    assert ids(Task.get_tasks(project_name="team/vision", task_name="^train$", allow_archived=False)) == [
        runs["failed"], runs["old"]]
    assert set(ids(Task.get_tasks(project_name=["team/vision", "team/audio"], task_name="^train$",
                                  tags=["__$all", "best", "__$not", "big"]))) == {
        runs["old"], runs["archived"], runs["other"]}
    assert ids(Task.get_tasks(task_filter={"type": ["testing"]})) == [runs["draft"]]
    assert ids(Task.get_tasks(task_filter={"search_text": "LARGE one"})) == [runs["draft"]]
    assert ids(Task.get_tasks(task_filter={"_any_": {"fields": ["name", "comment"], "pattern": "large"}})) == [
        runs["draft"]]
    assert ids(Task.get_tasks(project_name="team/vision", task_filter={"order_by": ["last_update"],
                                                                      "page": 0, "page_size": 2})) == [
        runs["old"], runs["draft"]]
    assert ids(Task.get_tasks(task_ids=[runs["other"], runs["old"]])) == [runs["other"], runs["old"]]


def test_query_tasks_gives_ids_or_the_fields_asked_for(runs):
    from exptable_desktop import Task

    assert Task.query_tasks(project_name="team/audio") == [runs["other"]]
    rows = Task.query_tasks(project_name="team/vision", task_name="large",
                            additional_return_fields=["name", "status", "tags", "last_update"])
    assert len(rows) == 1 and rows[0]["id"] == runs["draft"]
    assert (rows[0]["name"], rows[0]["status"], rows[0]["tags"]) == ("train-large", "created", ["best", "big"])
    assert rows[0]["last_update"].year >= 2023


def test_tag_language(db):
    from exptable_desktop.sdk.task_query import tag_matcher

    both, first, none = {"a", "b"}, {"a"}, set()
    example = tag_matcher(["__$all", "a", "b", "__$or", "d", "__$not", "e"])  # a AND b AND (d OR NOT e)
    assert example(both) and not example(first) and not example({"a", "b", "e"})
    assert tag_matcher(["a", "b"])(first) and not tag_matcher(["a", "b"])(none)
    assert not tag_matcher(["a", "-b"])(both) and tag_matcher(["-b"])(none)


def test_clone_and_enqueue(runs):
    from exptable_desktop import Task

    clone = Task.clone(runs["old"], name="retry")
    assert (clone.name, clone.status, clone.parent) == ("retry", st.DRAFT, runs["old"])  # parent: the source
    clone_of_clone = Task.clone(clone, comment="again", parent=runs["other"])
    assert clone_of_clone.parent == runs["other"]
    answer = Task.enqueue(clone, queue_name="gpu")
    assert answer["queued"] == 1 and answer["fields"]["status"] == st.PENDING
    assert QueueEntry.select().where(QueueEntry.experiment == clone.id).count() == 1
    with pytest.raises(ValueError, match=f"cannot enqueue {runs['old']}: Experiment is Completed"):
        Task.enqueue(runs["old"], queue_name="gpu")
    assert Task.enqueue(runs["old"], queue_name="gpu", force=True)["fields"]["status"] == st.PENDING  # reset first
    assert actions.dequeue([runs["old"]]).succeeded == [runs["old"]]
