"""Projects: nested by "/"-separated paths, like the reference system's names."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from peewee import fn

from exptable_desktop.store.schema import Experiment, Project


class ProjectError(Exception):
    pass


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
