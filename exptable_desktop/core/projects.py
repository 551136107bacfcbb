"""Projects: nested by "/"-separated paths, like the reference system's names."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from peewee import fn

from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.schema import Experiment, Project


class ProjectError(Exception):
    """A project change that cannot be made (bad name, name taken, no such project); a one-line message."""


def split_path(path: str) -> list[str]:
    parts = [p.strip() for p in (path or "").split("/")]
    parts = [p for p in parts if p]
    if not parts:
        raise ProjectError("a project needs a name")
    return parts


def get_or_create_project(path: str) -> Project:
    """The project at ``a/b/c``, creating any missing level. Call inside a write transaction."""
    parent = None
    now = time.time()
    for part in split_path(path):
        query = Project.select().where((Project.name == part) & (
            Project.parent.is_null() if parent is None else Project.parent == parent.id))
        found = query.first()
        if found is None:
            found = Project.create(name=part, parent=parent.id if parent else None, created=now)
        parent = found
    return parent


def find_project(path: str) -> Project | None:
    parent = None
    for part in split_path(path):
        query = Project.select().where((Project.name == part) & (
            Project.parent.is_null() if parent is None else Project.parent == parent.id))
        parent = query.first()
        if parent is None:
            return None
    return parent


@dataclass
class ProjectNode:
    """A project in the project tree, with its experiment count and sub-projects."""
    id: int
    name: str
    path: str
    parent_id: int | None
    own_count: int = 0
    children: list["ProjectNode"] = field(default_factory=list)

    @property
    def total_count(self) -> int:
        return self.own_count + sum(c.total_count for c in self.children)

    def descendant_ids(self) -> list[int]:
        out = [self.id]
        for child in self.children:
            out.extend(child.descendant_ids())
        return out


def project_tree(archived: bool = False) -> list[ProjectNode]:
    """All projects as a forest, with experiment counts, in two queries."""
    counts = dict(Experiment.select(Experiment.project, fn.COUNT(Experiment.id))
                  .where(Experiment.archived == archived)
                  .group_by(Experiment.project).tuples())
    nodes = {pid: ProjectNode(pid, name, name, parent, counts.get(pid, 0))
             for pid, name, parent in Project.select(Project.id, Project.name, Project.parent).tuples()}
    roots = []
    for node in sorted(nodes.values(), key=lambda n: n.name.lower()):
        if node.parent_id is not None and node.parent_id in nodes:
            nodes[node.parent_id].children.append(node)
        else:
            roots.append(node)

    def fill_paths(node, prefix):
        node.path = f"{prefix}/{node.name}" if prefix else node.name
        for child in node.children:
            fill_paths(child, node.path)
    for root in roots:
        fill_paths(root, "")
    return roots


def project_paths() -> dict[int, str]:
    out: dict[int, str] = {}

    def walk(nodes):
        for n in nodes:
            out[n.id] = n.path
            walk(n.children)
    walk(project_tree())
    return out


def descendant_ids(project_id: int) -> list[int]:
    def find(nodes):
        for n in nodes:
            if n.id == project_id:
                return n
            hit = find(n.children)
            if hit:
                return hit
        return None
    node = find(project_tree())
    return node.descendant_ids() if node else [project_id]


# ---- Creating, renaming, moving and deleting projects --------------------------------------------

def _clean_name(name: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ProjectError("a project needs a name")
    if "/" in text:
        raise ProjectError(f"a project name cannot hold '/' ({text!r}); '/' separates sub-projects")
    if len(text) > 255:
        raise ProjectError("a project name has at most 255 characters")
    return text


def _get(project_id: int) -> Project:
    project = Project.get_or_none(Project.id == project_id)
    if project is None:
        raise ProjectError(f"no project with id {project_id}")
    return project


def project_name_problem(name: str) -> str:
    """Why ``name`` cannot name a project ("" when it can): what create and rename would refuse."""
    try:
        _clean_name(name)
    except ProjectError as exc:
        return str(exc)
    return ""


def _sibling_exists(name: str, parent_id: int | None, except_id: int | None = None) -> bool:
    query = Project.select().where((Project.name == name) & (
        Project.parent.is_null() if parent_id is None else Project.parent == parent_id))
    if except_id is not None:
        query = query.where(Project.id != except_id)
    return query.exists()


def _path_of(project_id: int | None) -> str:
    return "" if project_id is None else project_paths().get(project_id, str(project_id))


def _restamp_experiments(project_ids: list[int]) -> None:
    """Make open tables read these projects' experiments again (their project path changed):
    an UPDATE, even one that changes nothing, stamps the rows' change sequence numbers."""
    for chunk in chunked(project_ids):
        Experiment.update(project=Experiment.project).where(Experiment.project.in_(chunk)).execute()


def create_project(name: str, parent_id: int | None = None) -> int:
    """A new project ``name`` under ``parent_id`` (None: top level); its id. ProjectError if it exists."""
    from exptable_desktop.store.db import require_writable, run_write

    name = _clean_name(name)
    require_writable()

    def work():
        if parent_id is not None:
            _get(parent_id)
        if _sibling_exists(name, parent_id):
            where = f" in {_path_of(parent_id)}" if parent_id is not None else ""
            raise ProjectError(f'a project named "{name}" already exists{where}')
        return Project.create(name=name, parent=parent_id, created=time.time()).id
    return run_write(work)


def rename_project(project_id: int, new_name: str) -> None:
    from exptable_desktop.store.db import require_writable, run_write

    new_name = _clean_name(new_name)
    require_writable()

    def work():
        project = _get(project_id)
        if project.name == new_name:
            return
        parent_id = project.parent_id
        if _sibling_exists(new_name, parent_id, except_id=project_id):
            raise ProjectError(f'a project named "{new_name}" already exists there')
        Project.update(name=new_name).where(Project.id == project_id).execute()
        _restamp_experiments(descendant_ids(project_id))
    run_write(work)


def move_project(project_id: int, new_parent_id: int | None) -> None:
    """Make ``project_id`` (with its sub-projects) a child of ``new_parent_id`` (None: top level)."""
    from exptable_desktop.store.db import require_writable, run_write

    require_writable()

    def work():
        project = _get(project_id)
        if new_parent_id is not None:
            _get(new_parent_id)
            if new_parent_id in descendant_ids(project_id):
                raise ProjectError(f'"{_path_of(project_id)}" cannot move into itself or one of its sub-projects')
        if project.parent_id == new_parent_id:
            return
        if _sibling_exists(project.name, new_parent_id, except_id=project_id):
            where = _path_of(new_parent_id) or "the top level"
            raise ProjectError(f'{where} already has a project named "{project.name}"')
        Project.update(parent=new_parent_id).where(Project.id == project_id).execute()
        _restamp_experiments(descendant_ids(project_id))
    run_write(work)


@dataclass
class ProjectContents:
    """What deleting a project would take with it (sub-projects included)."""
    project_ids: list[int]
    active: int  # experiments not archived
    archived: int

    @property
    def experiments(self) -> int:
        return self.active + self.archived

    @property
    def subprojects(self) -> int:
        return len(self.project_ids) - 1


def project_contents(project_id: int) -> ProjectContents:
    _get(project_id)
    ids = descendant_ids(project_id)
    counts = dict(Experiment.select(Experiment.archived, fn.COUNT(Experiment.id))
                  .where(Experiment.project.in_(ids)).group_by(Experiment.archived).tuples())
    return ProjectContents(ids, int(counts.get(False, 0)), int(counts.get(True, 0)))


def delete_project(project_id: int, *, archive_and_delete: bool = False) -> ProjectContents:
    """Delete a project and its sub-projects.

    Only an empty one (no experiments, archived or not), unless ``archive_and_delete``: then every
    experiment in it is archived (running ones aborted, pending ones dequeued, as Archive does) and
    deleted with its files, all in one transaction. Returns what was there.
    """
    from exptable_desktop.store.db import require_writable, write_transaction

    require_writable()
    files: list[str] = []
    with write_transaction():
        contents = project_contents(project_id)
        if contents.experiments and not archive_and_delete:
            raise ProjectError(
                f'"{_path_of(project_id)}" holds {contents.experiments} experiment'
                f'{"s" if contents.experiments != 1 else ""}; move them first, or archive all and delete')
        if contents.experiments:
            exp_ids = [i for (i,) in Experiment.select(Experiment.id)
                       .where(Experiment.project.in_(contents.project_ids)).tuples()]
            files = _delete_experiments(exp_ids)
        _delete_project_rows(contents.project_ids)
    _remove_files(files)
    return contents


def _delete_experiments(exp_ids: list[str]) -> list[str]:
    """Archive then delete ``exp_ids`` inside the caller's transaction; the files to remove once it commits."""
    from exptable_desktop.core import actions
    from exptable_desktop.store.files import experiment_folder

    files = actions._owned_files(exp_ids, outputs_only=False)
    files += [str(experiment_folder(i)) for i in exp_ids]
    actions.archive(exp_ids)
    result = actions.delete(exp_ids, delete_files=False)
    if result.skipped:
        reason = next(iter(result.skipped.values()))
        raise ProjectError(f"{len(result.skipped)} experiments could not be deleted: {reason}")
    return files


def _remove_files(paths: list[str]) -> None:
    from exptable_desktop.store import files as store_files

    for path in paths:
        # Files and experiment folders alike: only what lies in an experiment's own folder goes.
        store_files.remove_owned_file(path)


def _delete_project_rows(project_ids: list[int]) -> None:
    """Projects (children before parents) and the table layouts saved for them."""
    from exptable_desktop.store.schema import SavedView

    parents = dict(Project.select(Project.id, Project.parent).where(Project.id.in_(project_ids)).tuples())

    def depth(pid: int) -> int:
        level = 0
        while parents.get(pid) in parents and level < 64:
            pid, level = parents[pid], level + 1
        return level
    for pid in sorted(project_ids, key=depth, reverse=True):
        Project.delete().where(Project.id == pid).execute()
        SavedView.delete().where(SavedView.scope.startswith(f"project:{pid}:")).execute()


# ---- Sample data (what the first start adds) ----------------------------------------------------

SAMPLE_MARKER_USER = ""  # a preference of no person: database-wide
SAMPLE_MARKER_KEY = "sample_data"


@dataclass
class SampleData:
    """What the first start's sample data added (experiments, projects, queues, tags, workers), for its removal."""
    experiments: list[str]
    projects: list[int]
    queues: list[int]
    tags: list[int]
    workers: list[str]
    added: float


def mark_sample_data() -> SampleData:
    """Record everything in the database as sample data: called right after the first start filled an
    empty database with the demo (inside the same transaction), so "Remove sample data" can take exactly
    that away again later, whatever was added since."""
    from exptable_desktop.store import bulk
    from exptable_desktop.store.schema import Queue, Tag, Worker

    sample = SampleData(
        experiments=[i for (i,) in Experiment.select(Experiment.id).tuples()],
        projects=[i for (i,) in Project.select(Project.id).tuples()],
        queues=[i for (i,) in Queue.select(Queue.id).tuples()],
        tags=[i for (i,) in Tag.select(Tag.id).tuples()],
        workers=[n for (n,) in Worker.select(Worker.name).tuples()],
        added=time.time(),
    )
    bulk.set_preference(SAMPLE_MARKER_USER, SAMPLE_MARKER_KEY, sample.__dict__)
    return sample


def sample_data() -> SampleData | None:
    """What the first start added, if it is still there (None once removed, or never added)."""
    from exptable_desktop.store import bulk

    data = bulk.get_preference(SAMPLE_MARKER_USER, SAMPLE_MARKER_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return SampleData(list(data["experiments"]), [int(p) for p in data["projects"]],
                          [int(q) for q in data["queues"]], [int(t) for t in data["tags"]],
                          list(data["workers"]), float(data["added"]))
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class SampleRemoval:
    """What Remove sample data removed, and the sample projects kept because they now hold other experiments."""
    experiments: int = 0
    projects: int = 0
    kept_projects: list[str] = field(default_factory=list)  # sample projects that now hold other experiments


def remove_sample_data() -> SampleRemoval:
    """Remove the sample experiments (with their files), then the sample projects, tags, queues and
    workers nothing else uses any more; one transaction. Projects someone put their own experiments
    in stay (and are listed)."""
    from exptable_desktop.store import bulk
    from exptable_desktop.store.db import require_writable, write_transaction
    from exptable_desktop.store.schema import ExperimentTag, Queue, QueueEntry, Tag, Worker, WorkerQueue

    require_writable()
    sample = sample_data()
    if sample is None:
        raise ProjectError("there is no sample data to remove")
    removal = SampleRemoval()
    files: list[str] = []
    with write_transaction():
        present = []
        for chunk in chunked(sample.experiments):
            present += [i for (i,) in Experiment.select(Experiment.id).where(Experiment.id.in_(chunk)).tuples()]
        if present:
            files = _delete_experiments(present)
        removal.experiments = len(present)
        projects = set(sample.projects)
        rows = list(Project.select(Project.id, Project.parent).tuples())
        children: dict[int, list[int]] = {}
        for pid, parent in rows:
            if parent is not None:
                children.setdefault(parent, []).append(pid)
        holding = {p for (p,) in Experiment.select(Experiment.project).distinct().tuples()}
        removable: set[int] = set()

        def can_go(pid: int) -> bool:
            # Empty and every sub-project can go too (a project someone added under a sample one keeps it).
            kids = [can_go(c) for c in children.get(pid, [])]
            ok = pid in projects and pid not in holding and all(kids)
            if ok:
                removable.add(pid)
            return ok
        for pid, parent in rows:
            if parent is None or parent not in {p for p, _ in rows}:
                can_go(pid)
        paths = project_paths()
        removal.kept_projects = sorted(paths[p] for p in projects if p in paths and p not in removable)
        _delete_project_rows(list(removable))
        removal.projects = len(removable)
        used_tags = {t for (t,) in ExperimentTag.select(ExperimentTag.tag).distinct().tuples()}
        Tag.delete().where(Tag.id.in_([t for t in sample.tags if t not in used_tags] or [-1])).execute()
        stale_workers = [n for (n,) in Worker.select(Worker.name).where(
            Worker.name.in_(sample.workers or [""]) & (Worker.last_seen <= sample.added)).tuples()]
        if stale_workers:
            WorkerQueue.delete().where(WorkerQueue.worker.in_(stale_workers)).execute()
            Worker.delete().where(Worker.name.in_(stale_workers)).execute()
        busy_queues = {q for (q,) in QueueEntry.select(QueueEntry.queue).distinct().tuples()}
        busy_queues |= {q for (q,) in WorkerQueue.select(WorkerQueue.queue).distinct().tuples()}
        Queue.delete().where(Queue.id.in_([q for q in sample.queues if q not in busy_queues] or [-1])).execute()
        bulk.set_preference(SAMPLE_MARKER_USER, SAMPLE_MARKER_KEY, None)
    _remove_files(files)
    return removal
