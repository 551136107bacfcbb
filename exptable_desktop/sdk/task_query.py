"""Finding experiments from a script: ``Task.get_task``, ``Task.get_tasks``, ``Task.query_tasks``.

The reference SDK's filters and their meaning:

* ``project_name``: a project's full name ("team/vision"), or a list of them (any of them);
  subprojects are not included.
* ``task_name``: ``get_task`` matches the whole name; ``get_tasks`` and ``query_tasks`` take a
  regular expression found anywhere in the name ("^exact$" for the whole name).
* ``tags``: any of the tags; "-tag" excludes a tag. "__$all" / "__$and" and "__$any" / "__$or" start a
  group whose tags must all / may any be present, "__$not" negates the next tag; groups are ANDed.
* ``allow_archived=False`` leaves archived experiments out.
* ``task_filter``: ``status`` and ``type`` (lists), ``user``, ``parent``, ``id``, ``name`` (regex),
  ``tags``, ``system_tags`` (["-archived"] or ["archived"]), ``search_text`` (in name, description,
  id), ``_all_`` / ``_any_`` (``dict(fields=[...], pattern=regex)``), ``order_by`` (["-last_update"]),
  ``page`` / ``page_size``, ``only_fields``. Another key is refused with a one-line error, not ignored.

``get_task`` returns, as the reference, the most recently updated match whatever its status
(a match that is not archived before an archived one), and None when nothing matches.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from exptable_desktop.core import states as st
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.schema import Execution, Experiment, Project

ARCHIVED_TAG = "archived"
FILTER_KEYS = {"status", "type", "user", "parent", "id", "name", "tags", "system_tags", "search_text", "_all_",
               "_any_", "order_by", "page", "page_size", "only_fields", "project"}
ORDER_FIELDS = {"last_update": Experiment.last_update, "created": Experiment.created, "name": Experiment.name,
                "started": Experiment.started, "completed": Experiment.completed, "status": Experiment.status,
                "type": Experiment.type, "last_iteration": Experiment.last_iteration, "id": Experiment.id,
                "status_changed": Experiment.status_changed, "user": Experiment.user}
# Fields ``_all_`` / ``_any_`` patterns and ``additional_return_fields`` may name, as the reference spells them.
_EXECUTION_FIELDS = {"script.repository": "repository", "script.branch": "branch", "script.version_num": "commit",
                     "script.entry_point": "entry_point", "script.working_dir": "working_dir",
                     "script.tag": "tag", "script.binary": "binary", "execution.docker_cmd": "container_image",
                     "output.destination": "output_uri"}
_OPERATORS = {"__$all": "and", "__$and": "and", "__$any": "or", "__$or": "or"}


def _status_values(values: Iterable[Any]) -> list[str]:
    out = []
    for value in values:
        text = str(getattr(value, "value", value))
        out.append(text)
        if text == st.COMPLETED:
            out.append(st.CLOSED)
    return out


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) else list(value)


def tag_matcher(tags: Sequence[str]):
    """A predicate on an experiment's set of tags, following the reference's tag filter language."""
    tokens = [str(t) for t in tags]
    if not any(t in _OPERATORS or t == "__$not" for t in tokens):
        include = {t for t in tokens if not t.startswith("-")}
        exclude = {t[1:] for t in tokens if t.startswith("-")}
        return lambda have: (not include or bool(include & have)) and not (exclude & have)
    groups: list[tuple[str, list[tuple[str, bool]]]] = []
    negate_next = False
    for token in tokens:
        if token in _OPERATORS:
            groups.append((_OPERATORS[token], []))
            continue
        if token == "__$not":
            negate_next = True
            continue
        if not groups:
            groups.append(("or", []))
        negated = negate_next or token.startswith("-")
        groups[-1][1].append((token[1:] if token.startswith("-") else token, negated))
        negate_next = False

    def matches(have: set[str]) -> bool:
        for op, terms in groups:
            if not terms:
                continue
            results = [(tag in have) != negated for tag, negated in terms]
            if not (all(results) if op == "and" else any(results)):
                return False
        return True
    return matches


def _project_ids(project_name: Any) -> list[int] | None:
    """None: no project filter; []: none of the named projects exists."""
    from exptable_desktop.core.projects import find_project

    names = _as_list(project_name)
    if not names:
        return None
    return [p.id for p in (find_project(str(n)) for n in names) if p is not None]


def _tags_of(ids: list[str]) -> dict[str, set[str]]:
    from exptable_desktop.core.queries import tags_of

    return {exp_id: set(names) for exp_id, names in tags_of(ids).items()}


def _field_text(row: Experiment, field: str, execution: dict[str, dict[str, Any]], tags: dict[str, set[str]]) -> str:
    if field in ("comment", "description"):
        return row.description or ""
    if field == "tags":
        return " ".join(sorted(tags.get(row.id, ())))
    if field in _EXECUTION_FIELDS:
        return str(execution.get(row.id, {}).get(_EXECUTION_FIELDS[field]) or "")
    value = getattr(row, field, None)
    return "" if value is None else str(value)


def _executions(ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for chunk in chunked(ids):
        for row in Execution.select().where(Execution.experiment.in_(chunk)).dicts():
            out[row["experiment"]] = row
    return out


def find(task_ids: Sequence[str] | None = None, project_name: Any = None, task_name: str | None = None,
         exact_name: bool = False, tags: Sequence[str] | None = None, allow_archived: bool = True,
         task_filter: Mapping[str, Any] | None = None) -> list[Experiment]:
    """The matching experiments, in ``order_by`` order (default: most recently updated first)."""
    task_filter = dict(task_filter or {})
    unknown = set(task_filter) - FILTER_KEYS
    if unknown:
        raise ValueError(f"task_filter key {sorted(unknown)[0]!r} is not supported here; "
                         f"supported: {', '.join(sorted(FILTER_KEYS))}")
    query = Experiment.select()
    ids = _as_list(task_ids) + _as_list(task_filter.get("id"))
    if ids:
        query = query.where(Experiment.id.in_([str(i) for i in ids]))
    projects = _project_ids(project_name)
    if projects is not None:
        if not projects:
            return []
        query = query.where(Experiment.project.in_(projects))
    if task_filter.get("project"):
        query = query.where(Experiment.project.in_(_as_list(task_filter["project"])))
    if task_name and exact_name:
        query = query.where(Experiment.name == task_name)
    if not allow_archived:
        query = query.where(Experiment.archived == False)  # noqa: E712
    for system_tag in _as_list(task_filter.get("system_tags")):
        if system_tag == f"-{ARCHIVED_TAG}":
            query = query.where(Experiment.archived == False)  # noqa: E712
        elif system_tag == ARCHIVED_TAG:
            query = query.where(Experiment.archived == True)  # noqa: E712
    if task_filter.get("status"):
        query = query.where(Experiment.status.in_(_status_values(_as_list(task_filter["status"]))))
    if task_filter.get("type"):
        query = query.where(Experiment.type.in_([str(getattr(t, "value", t)) for t in _as_list(task_filter["type"])]))
    if task_filter.get("user"):
        query = query.where(Experiment.user.in_([str(u) for u in _as_list(task_filter["user"])]))
    if task_filter.get("parent"):
        parent = task_filter["parent"]
        query = query.where(Experiment.parent.in_([getattr(p, "id", p) for p in _as_list(parent)]))
    order = []
    for spec in _as_list(task_filter.get("order_by")) or ["-last_update"]:
        descending = str(spec).startswith("-")
        name = str(spec).lstrip("-+")
        if name not in ORDER_FIELDS:
            raise ValueError(f"task_filter order_by {name!r} is not supported; use one of {', '.join(ORDER_FIELDS)}")
        order.append(ORDER_FIELDS[name].desc() if descending else ORDER_FIELDS[name].asc())
    rows = list(query.order_by(*order, Experiment.id))

    patterns = []
    if task_name and not exact_name:
        patterns.append(("name", re.compile(task_name)))
    if task_filter.get("name"):
        patterns.append(("name", re.compile(str(task_filter["name"]))))
    tag_tests = [tag_matcher(_as_list(t)) for t in (tags, task_filter.get("tags")) if t]
    search = str(task_filter.get("search_text") or "").lower()
    field_rules = []
    for key, combine in (("_all_", all), ("_any_", any)):
        rule = task_filter.get(key)
        if rule:
            if not isinstance(rule, Mapping) or "pattern" not in rule:
                raise ValueError(f"task_filter {key} must be dict(fields=[...], pattern='regex')")
            field_rules.append((combine, list(rule.get("fields") or ["name"]), re.compile(str(rule["pattern"]))))
    if not (patterns or tag_tests or search or field_rules):
        return _page(rows, task_filter)
    ids = [r.id for r in rows]
    tags_by_id = _tags_of(ids) if tag_tests or any("tags" in f for _, f, _p in field_rules) else {}
    execution = _executions(ids) if any(f in _EXECUTION_FIELDS for _, fs, _p in field_rules for f in fs) else {}
    out = []
    for row in rows:
        if any(not pattern.search(row.name or "") for _, pattern in patterns):
            continue
        if any(not test(tags_by_id.get(row.id, set())) for test in tag_tests):
            continue
        if search and not any(search in (text or "").lower() for text in (row.name, row.description, row.id)):
            continue
        if any(not combine(bool(pattern.search(_field_text(row, f, execution, tags_by_id))) for f in fields)
               for combine, fields, pattern in field_rules):
            continue
        out.append(row)
    return _page(out, task_filter)


def _page(rows: list, task_filter: Mapping[str, Any]) -> list:
    if "page" not in task_filter and "page_size" not in task_filter:
        return rows
    size = int(task_filter.get("page_size") or 500)
    page = int(task_filter.get("page") or 0)
    return rows[page * size:(page + 1) * size]


def get_one(project_name: str | None, task_name: str | None, tags: Sequence[str] | None, allow_archived: bool,
            task_filter: Mapping[str, Any] | None) -> Experiment | None:
    rows = find(project_name=project_name, task_name=task_name, exact_name=True, tags=tags,
                allow_archived=allow_archived, task_filter=task_filter)
    if len(rows) > 1:
        live = [r for r in rows if not r.archived]
        rows = live or rows
    return rows[0] if rows else None


def field_value(row: Experiment, field: str, execution: dict[str, dict[str, Any]],
                tags: dict[str, set[str]]) -> Any:
    """One ``additional_return_fields`` entry as the reference returns it (times as datetimes)."""
    if field in ("last_update", "created", "started", "completed", "status_changed"):
        value = getattr(row, field, None)
        return datetime.fromtimestamp(value) if value else None
    if field == "project":
        return row.project_id
    if field == "project.name":
        return Project.get_by_id(row.project_id).name
    if field == "parent":
        return row.parent_id
    if field == "tags":
        return sorted(tags.get(row.id, ()))
    if field == "system_tags":
        return [ARCHIVED_TAG] if row.archived else []
    if field in ("comment", "description"):
        return row.description
    if field in _EXECUTION_FIELDS:
        return execution.get(row.id, {}).get(_EXECUTION_FIELDS[field])
    return getattr(row, field, None) if field in Experiment._meta.fields else None


def query(project_name: Any, task_name: str | None, tags: Sequence[str] | None,
          additional_return_fields: Sequence[str] | None, task_filter: Mapping[str, Any] | None) -> list:
    rows = find(project_name=project_name, task_name=task_name, tags=tags, task_filter=task_filter)
    if not additional_return_fields:
        return [r.id for r in rows]
    fields = list(dict.fromkeys(["id", *additional_return_fields]))
    ids = [r.id for r in rows]
    tags_by_id = _tags_of(ids) if "tags" in fields else {}
    execution = _executions(ids) if any(f in _EXECUTION_FIELDS for f in fields) else {}
    return [{f: field_value(r, f, execution, tags_by_id) for f in fields} for r in rows]


__all__ = ["find", "get_one", "query", "tag_matcher"]
