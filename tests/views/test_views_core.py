"""Named views, links, projects, stars and sample data, on SQLite and PostgreSQL (no Qt)."""
from __future__ import annotations

import pytest

from exptable_desktop.core import named_views as nv
from exptable_desktop.core import projects as pr
from exptable_desktop.core import stars
from exptable_desktop.core.columns import metric_key
from exptable_desktop.core.filters import RangeFilter, TagFilter, ValueSetFilter
from exptable_desktop.core.links import (
    CompareLink,
    ExperimentLink,
    LinkError,
    ViewLink,
    compare_link,
    experiment_link,
    parse_link,
    view_link,
)
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.core.viewstate import TableState, default_state
from exptable_desktop.store import bulk
from exptable_desktop.store.schema import Experiment, Project, SavedView

ACC = metric_key("accuracy", "val", "max")


def _spec(project_id=None, path="", **table_changes) -> nv.ViewSpec:
    table = default_state(True)
    table.custom = [ACC]
    table.order = table.order[:3] + [ACC] + table.order[3:]
    table.hidden = ["user", "description", "run_time", "id"]
    table.widths = {"name": 321, ACC: 140}
    table.sort = [(ACC, True), ("name", False)]
    table.filters = {"status": ValueSetFilter(frozenset({"in_progress", "failed"})),
                     "tags": TagFilter("all", frozenset({"best"}), frozenset({"debug"})),
                     ACC: RangeFilter(0.5, None)}
    table.precise = [ACC]
    for key, value in table_changes.items():
        setattr(table, key, value)
    return nv.ViewSpec(project_id=project_id, project_path=path, deep=False, archive=True, table=table,
                       search='status:running name~/res(18|50)/ "a b"', regex=False)


def _visible(table: TableState) -> list[str]:
    return [k for k in table.order if k not in table.hidden]


# ---- Named views ----------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_views_save_list_rename_delete_and_keep_everything(db):
    spec = _spec(project_id=7, path="vision/cnn", starred_first=True, starred_only=True)
    nv.save_view("alice", "Leaderboard", spec, shared=True)
    nv.save_view("alice", "Mine only", _spec())
    nv.save_view("bob", "Bob's private", _spec())
    nv.save_view("bob", "Bob's shared", _spec(), shared=True)
    assert [(v.owner, v.name) for v in nv.list_views("alice")] == [
        ("bob", "Bob's shared"), ("alice", "Leaderboard"), ("alice", "Mine only")]
    back = nv.get_view("alice", "alice", "Leaderboard")
    assert back.shared and back.spec.to_dict() == spec.to_dict()
    assert back.label("alice") == "Leaderboard (shared)" and back.label("bob") == "Leaderboard — alice"
    with pytest.raises(nv.ViewError, match="already have a view"):
        nv.save_view("alice", " Leaderboard ", _spec())
    nv.save_view("alice", "Leaderboard", _spec(), overwrite=True)  # keeps nothing of the old one but the name
    assert not nv.get_view("alice", "alice", "Leaderboard").shared
    nv.set_shared("alice", "Leaderboard", True)
    nv.set_default_view("alice", 7, "alice", "Leaderboard")
    nv.rename_view("alice", "Leaderboard", "Board")
    assert nv.default_view("alice", 7).name == "Board"  # the default follows the rename
    with pytest.raises(nv.ViewError, match="only they can change it|no view"):
        nv.rename_view("bob", "Board", "Stolen")
    with pytest.raises(nv.ViewError, match="no view"):
        nv.get_view("alice", "bob", "Bob's private")
    nv.delete_view("alice", "Board")
    assert nv.default_view("alice", 7) is None
    assert [v.name for v in nv.list_views("alice")] == ["Bob's shared", "Mine only"]
    with pytest.raises(nv.ViewError, match="needs a name"):
        nv.save_view("alice", "   ", _spec())


@pytest.mark.both_backends
def test_a_damaged_view_row_is_skipped_not_fatal(db):
    nv.save_view("alice", "Good", _spec())
    SavedView.create(user="alice", scope=nv.VIEWS_SCOPE, name="Broken", state="{not json", updated=0)
    assert [v.name for v in nv.list_views("alice")] == ["Good"]


def test_a_view_finds_its_project_again_by_path(db):
    cnn = pr.get_or_create_project("vision/cnn").id
    assert nv.resolve_project(nv.ViewSpec(project_id=cnn, project_path="vision/cnn")) == (cnn, None)
    assert nv.resolve_project(nv.ViewSpec(project_id=999, project_path="vision/cnn")) == (cnn, None)
    project_id, note = nv.resolve_project(nv.ViewSpec(project_id=999, project_path="gone/away"))
    assert project_id is None and "does not exist" in note


# ---- Links ----------------------------------------------------------------------------------------

def test_links_round_trip():
    assert parse_link(experiment_link("abc123")) == ExperimentLink("abc123")
    assert parse_link(compare_link(["a1", "b2", "a1", "c3"])) == CompareLink(("a1", "b2", "c3"))
    spec = _spec(project_id=3, path="vision / cnn & more", starred_first=True)
    link = view_link(spec, name="Best runs")
    assert link.startswith("exptable://view?")
    back = parse_link(link)
    assert isinstance(back, ViewLink) and back.name == "Best runs"
    got, want = back.spec, spec
    assert (got.project_id, got.project_path, got.deep, got.archive, got.search, got.regex) == \
        (want.project_id, want.project_path, want.deep, want.archive, want.search, want.regex)
    assert _visible(got.table) == _visible(want.table)
    assert got.table.custom == [ACC] and got.table.sort == want.table.sort
    assert got.table.filters == want.table.filters and got.table.precise == [ACC]
    assert got.table.widths == want.table.widths and got.table.starred_first and not got.table.starred_only


@pytest.mark.parametrize("url, words", [
    ("https://example.com", "not an exptable:// link"),
    ("exptable://experiment/", "needs one experiment id"),
    ("exptable://experiment/a%20b", "not an experiment id"),
    ("exptable://compare?ids=a1", "at least 2"),
    ("exptable://nowhere", "unknown link"),
    ("exptable://view?columns=bogus", "unknown column"),
    ("exptable://view?deep=maybe", "should be 1 or 0"),
    ("exptable://view?filters=%7Bnope", "filters cannot be read"),
    ("exptable://view?widths=name:wide", "widths item"),
])
def test_bad_links_are_one_clear_error(url, words):
    with pytest.raises(LinkError, match=words):
        parse_link(url)


def test_a_link_with_an_unknown_sort_falls_back_to_the_default():
    back = parse_link("exptable://view?order=-nonsense&columns=name")
    assert back.spec.table.sort == default_state(True).sort
    assert _visible(back.spec.table) == ["check", "name"]


# ---- Projects -------------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_projects_create_rename_move_and_refuse_clashes(db):
    vision = pr.create_project("vision")
    cnn = pr.create_project("cnn", vision)
    other = pr.create_project("other")
    with pytest.raises(pr.ProjectError, match="already exists"):
        pr.create_project("cnn", vision)
    with pytest.raises(pr.ProjectError, match="cannot hold '/'"):
        pr.create_project("a/b")
    exp = create_experiment("vision/cnn", "run")
    seq = Experiment.get_by_id(exp).change_seq
    pr.rename_project(cnn, "convnets")
    assert pr.project_paths()[cnn] == "vision/convnets"
    # Open tables read the experiment again: its project path changed.
    assert Experiment.get_by_id(exp).change_seq > seq
    pr.move_project(cnn, other)
    assert pr.project_paths()[cnn] == "other/convnets"
    with pytest.raises(pr.ProjectError, match="into itself"):
        pr.move_project(other, cnn)
    pr.create_project("convnets")
    with pytest.raises(pr.ProjectError, match="already has a project"):
        pr.move_project(cnn, None)
    pr.move_project(vision, other)
    assert pr.project_paths()[vision] == "other/vision"
    with pytest.raises(pr.ProjectError, match="already exists there"):
        pr.rename_project(vision, "convnets")


@pytest.mark.both_backends
def test_delete_project_only_when_empty_or_archive_all_and_delete(db, tmp_path):
    from exptable_desktop.core import states as st
    from exptable_desktop.core.recording import set_status
    from exptable_desktop.store import files as store_files

    keep = create_experiment("keep", "stays")
    running = create_experiment("doomed/sub", "running")
    set_status(running, st.RUNNING)
    published = create_experiment("doomed", "published")
    set_status(published, st.RUNNING)
    set_status(published, st.COMPLETED)
    set_status(published, st.PUBLISHED)
    folder = store_files.experiment_folder(running)
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"x")
    doomed = pr.find_project("doomed").id
    bulk.store_saved_view("alice", f"project:{doomed}:flat", {"version": 1})
    with pytest.raises(pr.ProjectError, match="holds 2 experiments; move them first, or archive all and delete"):
        pr.delete_project(doomed)
    contents = pr.delete_project(doomed, archive_and_delete=True)
    assert contents.experiments == 2 and contents.subprojects == 1
    assert pr.find_project("doomed") is None and pr.find_project("doomed/sub") is None
    assert list(Experiment.select(Experiment.id).tuples()) == [(keep,)]
    assert not folder.exists()
    assert not SavedView.select().where(SavedView.scope.startswith(f"project:{doomed}:")).exists()
    empty = pr.create_project("empty")
    pr.delete_project(empty)
    assert Project.get_or_none(Project.id == empty) is None


# ---- Stars ----------------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_stars_are_per_user_and_forget_deleted_experiments(db):
    from exptable_desktop.core import actions

    a, b, c = (create_experiment("p", n) for n in "abc")
    assert stars.set_starred("alice", [a, b, "nope"], True) == [a, b]
    stars.set_starred("alice", [a], True)  # twice is once
    stars.set_starred("bob", [c], True)
    assert stars.starred_ids("alice") == {a, b} and stars.starred_ids("bob") == {c}
    stars.set_starred("alice", [a], False)
    actions.archive([b])
    actions.delete([b])
    assert stars.starred_ids("alice") == set()


def test_the_star_column_filters_sorts_and_answers_queries(populated):
    import numpy as np

    from exptable_desktop.core.query import evaluate
    from exptable_desktop.core.table_loading import load_table
    from exptable_desktop.store.bulk import Scope

    table = load_table(Scope(None, False))
    chosen = {populated["c-vit"], populated["z-nlp"]}
    stars.apply_stars(table, chosen)
    names = lambda mask: sorted(table.text["name"][np.flatnonzero(mask)].tolist())  # noqa: E731
    assert names(evaluate("is:starred", table)) == ["c-vit", "z-nlp"]
    assert len(names(evaluate("-is:starred", table))) == 7
    table.set_filter(stars.STAR_KEY, stars.STARRED_ONLY)
    assert sorted(table.text["name"][table.order].tolist()) == ["c-vit", "z-nlp"]
    table.set_filter(stars.STAR_KEY, None)
    table.sort = [(stars.STAR_KEY, False), ("name", False)]
    table.resort()
    assert table.text["name"][table.order].tolist()[:3] == ["c-vit", "z-nlp", "a-baseline"]
    stars.apply_stars(table, {populated["a-baseline"]})  # the sort follows
    assert table.text["name"][table.order].tolist()[:2] == ["a-baseline", "b-resnet18"]


# ---- Sample data ----------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_remove_sample_data_takes_exactly_what_the_first_start_added(db, tmp_path):
    from exptable_desktop.core import actions
    from exptable_desktop.io.demo import make_demo
    from exptable_desktop.store import files as store_files
    from exptable_desktop.store.db import write_transaction
    from exptable_desktop.store.schema import Queue, Tag, Worker

    with write_transaction():
        make_demo(40, seed=1, detailed=4, images=2)
        pr.mark_sample_data()
    sample = pr.sample_data()
    assert len(sample.experiments) == 40 and sample.projects and sample.tags and sample.workers
    folders = [store_files.experiment_folder(i) for i in sample.experiments]
    assert any(f.exists() for f in folders)
    sample_paths = set(pr.project_paths().values())
    a_sample_project = sorted(sample_paths)[-1]
    mine = create_experiment(a_sample_project, "my own run in a sample project", tags=["mine"])
    own_project = create_experiment("my-project", "mine too")
    actions.enqueue([own_project], "default")

    removal = pr.remove_sample_data()
    assert removal.experiments == 40
    assert {i for (i,) in Experiment.select(Experiment.id).tuples()} == {mine, own_project}
    assert not any(f.exists() for f in folders)
    remaining = set(pr.project_paths().values())
    # The sample project that now holds my run stays, with its parents; every other sample project is gone.
    assert remaining - {"my-project"} == {p for p in sample_paths if a_sample_project.startswith(p)}
    assert removal.kept_projects and a_sample_project in removal.kept_projects
    assert set(Tag.select(Tag.name).tuples()) == {("mine",)}
    assert not Worker.select().exists()
    assert [q.name for q in Queue.select()] == ["default"]  # mine is waiting in it
    assert pr.sample_data() is None
    with pytest.raises(pr.ProjectError, match="no sample data"):
        pr.remove_sample_data()


def test_the_first_start_marks_its_demo_as_sample_data(tmp_path, monkeypatch):
    """``exptable gui`` on a new default database adds the demo and marks it (one transaction)."""
    from exptable_desktop import cli
    from exptable_desktop.store import close_database, open_database

    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    monkeypatch.setattr(cli, "GUI_DEMO_EXPERIMENTS", 12)
    monkeypatch.setattr("exptable_desktop.ui.app.run_gui", lambda url: 0)
    assert cli.main(["gui"]) == 0
    from exptable_desktop.store.db import default_db_url
    open_database(default_db_url())
    try:
        sample = pr.sample_data()
        assert sample is not None and len(sample.experiments) == 12
        assert len(sample.projects) == Project.select().count()
    finally:
        close_database()
