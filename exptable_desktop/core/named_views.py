"""Named views: a table view someone saved by name, to open again, share with the team and link to.

A view is a project view (project, with sub-projects or not, archive or not), the table's layout
(core.viewstate: columns, order, widths, sort, filters) and the search box (text, regex flag).
Views live in the SavedView table, ``scope`` VIEWS_SCOPE, ``name`` the view's name, one per owner
and name. Each view is personal or shared: shared views are listed for everybody on the database
(on PostgreSQL: the team), with their owner; only the owner renames, updates or deletes them. The
flag lives inside the state JSON, so no schema change was needed. A person's default view per
project is a preference.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from exptable_desktop.core.viewstate import TableState, state_from_dict
from exptable_desktop.store import bulk
from exptable_desktop.store.db import require_writable, run_write
from exptable_desktop.store.schema import Project, SavedView

VIEWS_SCOPE = "views"
VIEW_VERSION = 1
MAX_NAME = 120
DEFAULT_PREFERENCE = "views.default."


class ViewError(ValueError):
    """A view that cannot be saved, found or changed; the message is one line for a person."""


@dataclass
class ViewSpec:
    """Everything a view shows (what a view link carries too)."""
    project_id: int | None = None
    project_path: str = ""  # found again by path when the id is gone (another database, a re-created project)
    deep: bool = True
    archive: bool = False
    table: TableState = field(default_factory=TableState)
    search: str = ""
    regex: bool = False

    @property
    def multi_project(self) -> bool:
        return self.project_id is None or self.deep

    def to_dict(self) -> dict:
        return {"version": VIEW_VERSION, "project": self.project_id, "project_path": self.project_path,
                "deep": self.deep, "archive": self.archive, "table": self.table.to_dict(),
                "search": self.search, "regex": self.regex}

    @classmethod
    def from_dict(cls, data: dict) -> "ViewSpec":
        """Inverse of ``to_dict``, tolerant: unknown or malformed parts fall back to the defaults."""
        if not isinstance(data, dict):
            raise ViewError("a view must be a JSON object")
        project = data.get("project")
        project_id = project if isinstance(project, int) and not isinstance(project, bool) else None
        deep = bool(data.get("deep", True))
        return cls(
            project_id=project_id,
            project_path=str(data.get("project_path") or ""),
            deep=deep,
            archive=bool(data.get("archive", False)),
            table=state_from_dict(data.get("table"), project_id is None or deep),
            search=str(data.get("search") or ""),
            regex=bool(data.get("regex", False)),
        )


@dataclass
class NamedView:
    """A table view saved under a name by its owner, shared with everyone on the database or not."""
    owner: str
    name: str
    spec: ViewSpec
    shared: bool
    updated: float

    def mine(self, user: str) -> bool:
        return self.owner == user

    def label(self, user: str) -> str:
        """The name, with the owner for someone else's view and "shared" for one's own shared one."""
        if not self.mine(user):
            return f"{self.name} — {self.owner}"
        return f"{self.name} (shared)" if self.shared else self.name


def clean_name(name: str) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ViewError("a view needs a name")
    if len(text) > MAX_NAME:
        raise ViewError(f"a view name has at most {MAX_NAME} characters")
    return text


def resolve_project(spec: ViewSpec) -> tuple[int | None, str | None]:
    """The project id the view shows here, and a note when it had to be found another way or not at all."""
    if spec.project_id is None and not spec.project_path:
        return None, None
    if spec.project_id is not None and Project.get_or_none(Project.id == spec.project_id) is not None:
        from exptable_desktop.core.projects import project_paths
        path = project_paths().get(spec.project_id, "")
        if not spec.project_path or path == spec.project_path:
            return spec.project_id, None
    if spec.project_path:
        from exptable_desktop.core.projects import ProjectError, find_project
        try:
            found = find_project(spec.project_path)
        except ProjectError:
            found = None
        if found is not None:
            return found.id, None
        return None, f'project "{spec.project_path}" does not exist here; showing all experiments'
    return None, "the view's project does not exist any more; showing all experiments"


# ---- Storage ------------------------------------------------------------------------------------

def _row_to_view(row) -> NamedView | None:
    try:
        data = json.loads(row.state)
        spec = ViewSpec.from_dict(data)
    except (ValueError, TypeError):
        return None  # a hand-edited or damaged row: not listed rather than breaking the menu
    return NamedView(row.user, row.name, spec, bool(data.get("shared", False)), float(row.updated or 0.0))


def list_views(user: str) -> list[NamedView]:
    """The person's own views and everybody's shared ones, by name (own first on equal names)."""
    rows = SavedView.select().where((SavedView.scope == VIEWS_SCOPE) & (SavedView.name != ""))
    views = [v for v in (_row_to_view(r) for r in rows) if v is not None and (v.owner == user or v.shared)]
    return sorted(views, key=lambda v: (v.name.lower(), v.owner != user, v.owner))


def get_view(user: str, owner: str, name: str) -> NamedView:
    row = SavedView.get_or_none((SavedView.user == owner) & (SavedView.scope == VIEWS_SCOPE)
                                & (SavedView.name == name))
    view = _row_to_view(row) if row is not None else None
    if view is None or not (view.owner == user or view.shared):
        raise ViewError(f'no view "{name}"' + (f" of {owner}" if owner != user else ""))
    return view


def _payload(spec: ViewSpec, shared: bool) -> str:
    return json.dumps({**spec.to_dict(), "shared": bool(shared)}, sort_keys=True)


def save_view(user: str, name: str, spec: ViewSpec, *, shared: bool = False, overwrite: bool = False) -> NamedView:
    """Save ``spec`` as the person's view ``name``; ViewError if they have one by that name and not ``overwrite``."""
    name = clean_name(name)
    require_writable()
    now = time.time()

    def work():
        where = (SavedView.user == user) & (SavedView.scope == VIEWS_SCOPE) & (SavedView.name == name)
        if SavedView.select().where(where).exists():
            if not overwrite:
                raise ViewError(f'you already have a view named "{name}"')
            SavedView.update(state=_payload(spec, shared), updated=now).where(where).execute()
        else:
            SavedView.create(user=user, scope=VIEWS_SCOPE, name=name, state=_payload(spec, shared), updated=now)
    run_write(work)
    return NamedView(user, name, spec, shared, now)


def update_view(user: str, name: str, spec: ViewSpec) -> NamedView:
    """Replace the person's view ``name`` with ``spec``, keeping whether it is shared."""
    view = _own(user, name)
    return save_view(user, name, spec, shared=view.shared, overwrite=True)


def _own(user: str, name: str) -> NamedView:
    view = get_view(user, user, name)
    if not view.mine(user):
        raise ViewError(f'"{name}" belongs to {view.owner}; only they can change it')
    return view


def rename_view(user: str, name: str, new_name: str) -> NamedView:
    new_name = clean_name(new_name)
    view = _own(user, name)
    if new_name == name:
        return view
    require_writable()

    def work():
        if SavedView.select().where((SavedView.user == user) & (SavedView.scope == VIEWS_SCOPE)
                                    & (SavedView.name == new_name)).exists():
            raise ViewError(f'you already have a view named "{new_name}"')
        (SavedView.update(name=new_name, updated=time.time())
         .where((SavedView.user == user) & (SavedView.scope == VIEWS_SCOPE) & (SavedView.name == name)).execute())
    run_write(work)
    _follow_rename_in_defaults(user, name, new_name)
    return get_view(user, user, new_name)


def set_shared(user: str, name: str, shared: bool) -> NamedView:
    view = _own(user, name)
    return save_view(user, name, view.spec, shared=shared, overwrite=True)


def delete_view(user: str, name: str) -> None:
    _own(user, name)
    require_writable()
    run_write(lambda: SavedView.delete().where((SavedView.user == user) & (SavedView.scope == VIEWS_SCOPE)
                                               & (SavedView.name == name)).execute())


# ---- Default view per project -------------------------------------------------------------------

def _default_key(project_id: int | None) -> str:
    return DEFAULT_PREFERENCE + ("all" if project_id is None else str(project_id))


def set_default_view(user: str, project_id: int | None, owner: str, name: str) -> None:
    """Open view ``owner``/``name`` whenever the person picks this project."""
    get_view(user, owner, name)
    bulk.set_preference(user, _default_key(project_id), {"owner": owner, "name": name})


def clear_default_view(user: str, project_id: int | None) -> None:
    bulk.set_preference(user, _default_key(project_id), None)


def default_view(user: str, project_id: int | None) -> NamedView | None:
    """The person's default view for this project, if they chose one and it still exists."""
    chosen = bulk.get_preference(user, _default_key(project_id))
    if not isinstance(chosen, dict):
        return None
    try:
        return get_view(user, str(chosen.get("owner", "")), str(chosen.get("name", "")))
    except ViewError:
        return None


def _follow_rename_in_defaults(user: str, old: str, new: str) -> None:
    from exptable_desktop.store.schema import Preference

    rows = list(Preference.select().where((Preference.user == user)
                                          & Preference.key.startswith(DEFAULT_PREFERENCE)))
    for row in rows:
        try:
            chosen = json.loads(row.value)
        except ValueError:
            continue
        if isinstance(chosen, dict) and chosen.get("owner") == user and chosen.get("name") == old:
            bulk.set_preference(user, row.key, {"owner": user, "name": new})
