"""The search box's query language: parse, resolve against the columns, evaluate over the table's arrays.

    status:running tag:best -tag:debug user:alice|bob lr>0.01 metric:accuracy/val.max>=0.9
    started>2026-11-01 name~/resnet(18|50)/ (A OR B) "two words"

Terms next to each other must all hold (AND); ``OR`` (upper case) between them and parentheses
group; ``-`` or ``NOT`` in front negates. A term is plain text (name, id and description contain
it), a quoted phrase, a ``/regex/``, or ``field OP value`` with OP one of ``: = != < <= > >= ~``.
``:`` means "is" for categories and numbers, "contains" for text fields; ``~`` is a regular
expression. ``a|b`` after ``:``/``=``/``!=``/``~`` lists alternatives. Fields are the built-in
columns (``status``, ``tag``, ``started`` …), hyperparameters (``lr``, ``Args/lr``, ``Args.lr``,
``hp:Args/lr``) and metrics (``metric:<metric>/<variant>[.last|.min|.max]``, or the bare
``accuracy/val.max``). Dates are ISO (``2026-11-01``, ``2026-11-01T14:30``), ``today``,
``yesterday`` or an age (``3d``, ``12h``, ``2w`` ago); durations ``90``, ``45s``, ``1h30m``.

``parse`` needs nothing but the text: a malformed query raises ``QueryError`` with the
position. ``compile_query`` resolves field names against a ``Catalogue`` of the metrics and
hyperparameters there are (an unknown field or a bad value is a ``QueryError`` too), and the
compiled query evaluates vectorised over an ``ExperimentTable``: one numpy operation per term,
with Python loops only over distinct values (categories), never over rows, except for text
matches, which run one C-level pass over the texts.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from exptable_desktop.core import states as st
from exptable_desktop.core.columns import HYPERPARAM, METRIC, METRIC_FIELD_LABELS, hyperparam_key, metric_key, spec_for
from exptable_desktop.core.filters import TagFilter

if TYPE_CHECKING:  # pragma: no cover
    from exptable_desktop.core.experiment_table import ExperimentTable
    from exptable_desktop.store.bulk import Scope

OPERATORS = (">=", "<=", "!=", ":", "=", ">", "<", "~")
# Operators that may list alternatives (a|b): "is one of", "contains one of", "matches one of".
LIST_OPERATORS = frozenset({":", "=", "!=", "~"})
KEYWORDS = ("OR", "AND", "NOT")
_OPERATOR_START = frozenset(":=<>~")
_STOP = frozenset(' \t\r\n()"')


class QueryError(ValueError):
    """A query that cannot be read or resolved; ``position`` (0-based) and ``end`` mark the part."""

    def __init__(self, message: str, position: int, end: int | None = None):
        self.message = message
        self.position = max(0, position)
        self.end = max(self.position + 1, end if end is not None else self.position + 1)
        super().__init__(f"{message} (at character {self.position + 1})")


# ---- The syntax tree ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """One value of a search term as written: plain, quoted or a /regex/."""
    text: str
    regex: bool = False  # written /like this/
    quoted: bool = False


@dataclass(frozen=True)
class Text:
    """Plain text, a "quoted phrase" or a /regex/: matched against name, id and description."""
    value: Value
    position: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Term:
    """``field:value`` (or ``field>value`` ...) in the search box, with its position for highlights and errors."""
    name: str  # the field as written (without quotes)
    op: str
    values: tuple[Value, ...]
    position: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)
    name_end: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    """A negated part of a search query (``-term`` or ``NOT ...``)."""
    child: "Node"
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    """Parts of a search query that must all match."""
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    """Parts of a search query of which one must match."""
    children: tuple["Node", ...]


Node = Text | Term | Not | And | Or


@dataclass(frozen=True)
class Query:
    """A parsed search-box query: the tree of terms, and the text it came from."""
    root: Node
    text: str = field(default="", compare=False)

    @property
    def is_plain_text(self) -> bool:
        """True for words without any query syntax: the box then searches the text as one phrase, as
        it always did ("run 1" finds "run 1", not every row with a "1" in its id)."""
        def plain(node) -> bool:
            return isinstance(node, Text) and not node.value.quoted and not node.value.regex
        root = self.root
        if "(" in self.text or ")" in self.text or any(w in KEYWORDS for w in self.text.split()):
            return False  # grouping and AND leave no node of their own in the tree
        return plain(root) or (isinstance(root, And) and all(plain(c) for c in root.children))

    def terms(self) -> list[Term]:
        out: list[Term] = []

        def walk(node):
            if isinstance(node, Term):
                out.append(node)
            elif isinstance(node, Not):
                walk(node.child)
            elif isinstance(node, (And, Or)):
                for child in node.children:
                    walk(child)
        walk(self.root)
        return out


# ---- Parsing --------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str, position: int | None = None, end: int | None = None) -> QueryError:
        return QueryError(message, self.pos if position is None else position, end)

    def skip_space(self) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def keyword(self) -> str | None:
        """The keyword at the cursor (a whole word: OR, AND, NOT), without consuming it."""
        for word in KEYWORDS:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (end == len(self.text) or self.text[end] in _STOP):
                return word
        return None

    def parse(self) -> Query:
        self.skip_space()
        if self.at_end():
            raise self.error("empty query")
        root = self.parse_or()
        self.skip_space()
        if not self.at_end():
            # Only a ")" without its "(" stops parse_or before the end.
            raise self.error("unmatched ')'")
        return Query(root, self.text)

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while True:
            self.skip_space()
            if self.keyword() != "OR":
                break
            self.pos += 2
            self.skip_space()
            if self.at_end() or self.text[self.pos] == ")" or self.keyword() == "OR":
                raise self.error("expected a term after OR")
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while True:
            self.skip_space()
            if self.at_end() or self.text[self.pos] == ")" or self.keyword() == "OR":
                break
            if self.keyword() == "AND":
                self.pos += 3
                self.skip_space()
                if self.at_end() or self.text[self.pos] == ")" or self.keyword() in ("OR", "AND"):
                    raise self.error("expected a term after AND")
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        self.skip_space()
        start = self.pos
        if self.at_end():
            raise self.error("expected a term")
        if self.text[self.pos] == "-" and self.pos + 1 < len(self.text) and not self.text[self.pos + 1].isspace() \
                and self.text[self.pos + 1] not in ")-":
            self.pos += 1
            return Not(self.parse_atom(), start)
        if self.keyword() == "NOT":
            self.pos += 3
            self.skip_space()
            if self.at_end() or self.text[self.pos] == ")":
                raise self.error("expected a term after NOT")
            return Not(self.parse_unary(), start)
        return self.parse_atom()

    def parse_atom(self) -> Node:
        self.skip_space()
        if self.at_end():
            raise self.error("expected a term")
        char = self.text[self.pos]
        if char == "(":
            opening = self.pos
            self.pos += 1
            self.skip_space()
            if self.at_end():
                raise self.error("'(' is never closed", opening)
            if self.text[self.pos] == ")":
                raise self.error("empty parentheses", opening, self.pos + 1)
            node = self.parse_or()
            self.skip_space()
            if self.at_end() or self.text[self.pos] != ")":
                raise self.error("'(' is never closed", opening)
            self.pos += 1
            return node
        if char == ")":
            raise self.error("unmatched ')'")
        word = self.keyword()
        if word is not None:
            raise self.error(f"{word} needs a term on both sides", self.pos, self.pos + len(word))
        return self.parse_term()

    def parse_term(self) -> Node:
        start = self.pos
        char = self.text[self.pos]
        if char == '"':
            name = self.read_quoted()
            quoted = True
        elif char == "/":
            pattern = self.read_regex()
            return Text(Value(pattern, regex=True), start, self.pos)
        else:
            name = self.read_word(_STOP | _OPERATOR_START, allow_bang=False)
            quoted = False
            lowered = name.lower()
            if lowered in ("metric", "hp") and self.text.startswith(":", self.pos) \
                    and self.pos + 1 < len(self.text) and (self.text[self.pos + 1] not in _STOP
                                                           or self.text[self.pos + 1] == '"'):
                # metric:<metric>/<variant>.max and hp:<section>/<name> name one column: the ":" is part of it.
                self.pos += 1
                if self.text[self.pos] == '"':
                    name = f"{name}:{self.read_quoted()}"
                    for suffix in (".last", ".min", ".max"):  # metric:"a b/c".max
                        if self.text.startswith(suffix, self.pos) and lowered == "metric":
                            name += suffix
                            self.pos += len(suffix)
                            break
                else:
                    name = f"{name}:{self.read_word(_STOP | _OPERATOR_START, allow_bang=False)}"
        name_end = self.pos
        op = self.read_operator()
        if op is None:
            if not quoted and not name:
                raise self.error("expected a term")
            if not quoted and name.lower().startswith(("metric:", "hp:")):
                raise self.error(f"{name} needs an operator and a value, like {name}>0.5", start, self.pos)
            return Text(Value(name, quoted=quoted), start, self.pos)
        if not name:
            raise self.error(f"'{op}' needs a field name before it", start, self.pos)
        op_end = self.pos
        if self.at_end() or self.text[self.pos].isspace() or self.text[self.pos] == ")":
            raise self.error(f"expected a value after '{op}'", op_end)
        values = [self.read_value()]
        while not self.at_end() and self.text[self.pos] == "|":
            bar = self.pos
            self.pos += 1
            if op not in LIST_OPERATORS:
                raise self.error(f"'{op}' compares with one value; '|' lists values after ':', '=', '!=' or '~'",
                                 bar)
            if self.at_end() or (self.text[self.pos] in _STOP and self.text[self.pos] != '"') \
                    or self.text[self.pos] == "|":
                raise self.error("expected a value after '|'")
            values.append(self.read_value())
        return Term(name, op, tuple(values), start, self.pos, name_end)

    def read_operator(self) -> str | None:
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        return None

    def read_word(self, stop: frozenset[str], allow_bang: bool = True) -> str:
        text = self.text
        start = self.pos
        while self.pos < len(text):
            char = text[self.pos]
            if char in stop or (not allow_bang and char == "!" and text.startswith("!=", self.pos)):
                break
            self.pos += 1
        return text[start:self.pos]

    def read_value(self) -> Value:
        char = self.text[self.pos]
        if char == '"':
            return Value(self.read_quoted(), quoted=True)
        if char == "/":
            return Value(self.read_regex(), regex=True)
        start = self.pos
        word = self.read_word(_STOP | {"|"})
        if not word:
            raise self.error("expected a value", start)
        return Value(word)

    def read_quoted(self) -> str:
        opening = self.pos
        self.pos += 1
        out = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in '"\\':
                out.append(text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.error('unterminated quote: \'"\' is never closed', opening, len(text))

    def read_regex(self) -> str:
        opening = self.pos
        self.pos += 1
        out = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                out.append("/" if nxt == "/" else "\\" + nxt)
                self.pos += 2
                continue
            if char == "/":
                self.pos += 1
                pattern = "".join(out)
                if not pattern:
                    raise self.error("empty regular expression", opening, self.pos)
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise self.error(f"invalid regular expression: {exc.msg}", opening, self.pos) from None
                return pattern
            out.append(char)
            self.pos += 1
        raise self.error("unterminated regular expression: '/' is never closed", opening, len(text))


def parse(text: str) -> Query:
    """The syntax tree of ``text``; QueryError (with ``position``) when it is malformed."""
    if not isinstance(text, str):
        raise TypeError("a query is a string")
    return _Parser(text).parse()


# ---- Writing a tree back as text ------------------------------------------------------------------

def _needs_quotes(text: str, *, value: bool) -> bool:
    """Whether ``text`` must be quoted to read back as itself: as a value after an operator
    (``value``), or standing alone as plain text or a field name."""
    if not text or text[0] in '/"':
        return True
    if value:
        # A value starting like an operator would lengthen the operator before it (">" then "=").
        return text[0] in _OPERATOR_START or text[0] == "!" or any(c in _STOP or c == "|" or c.isspace()
                                                                    for c in text)
    if text in KEYWORDS or text[0] == "-" or "!=" in text or text.lower().startswith(("metric:", "hp:")):
        return True
    return any(c in _STOP or c in _OPERATOR_START or c.isspace() for c in text)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_value(value: Value, *, in_term: bool) -> str:
    if value.regex:
        return "/" + value.text.replace("/", "\\/") + "/"
    if value.quoted or _needs_quotes(value.text, value=in_term):
        return _quote(value.text)
    return value.text


def _format_name(name: str) -> str:
    lowered = name.lower()
    for prefix in ("metric:", "hp:"):
        if lowered.startswith(prefix) and len(name) > len(prefix):
            body = name[len(prefix):]
            return name[:len(prefix)] + (_quote(body) if _needs_quotes(body, value=False) else body)
    return _quote(name) if _needs_quotes(name, value=False) else name


def format_query(node: Node | Query) -> str:
    """Text that parses back to the same tree (quotes and parentheses only where needed)."""
    if isinstance(node, Query):
        node = node.root
    if isinstance(node, Text):
        return _format_value(node.value, in_term=False)
    if isinstance(node, Term):
        return _format_name(node.name) + node.op + "|".join(_format_value(v, in_term=True) for v in node.values)
    if isinstance(node, Not):
        inner = format_query(node.child)
        return "-" + (f"({inner})" if isinstance(node.child, (And, Or, Not)) else inner)
    if isinstance(node, And):
        # A nested AND keeps its parentheses, so the text reads back as the same tree.
        return " ".join(f"({format_query(c)})" if isinstance(c, (Or, And)) else format_query(c)
                        for c in node.children)
    if isinstance(node, Or):
        return " OR ".join(f"({format_query(c)})" if isinstance(c, Or) else format_query(c) for c in node.children)
    raise TypeError(f"not a query node: {node!r}")


# ---- What fields there are ---------------------------------------------------------------------

CATEGORY, TEXT_FIELD, TAGS, DATE, NUMBER, DURATION, STARRED = (
    "category", "text", "tags", "date", "number", "duration", "starred")

# Field name (lower case) -> (kind, table column).
BUILTIN_FIELDS: dict[str, tuple[str, str]] = {
    "status": (CATEGORY, "status"), "state": (CATEGORY, "status"),
    "type": (CATEGORY, "type"),
    "user": (CATEGORY, "user"), "owner": (CATEGORY, "user"),
    "project": (CATEGORY, "project"),
    "parent": (CATEGORY, "parent"),
    "name": (TEXT_FIELD, "name"), "id": (TEXT_FIELD, "id"),
    "description": (TEXT_FIELD, "description"), "desc": (TEXT_FIELD, "description"),
    "comment": (TEXT_FIELD, "description"),
    "tag": (TAGS, "tags"), "tags": (TAGS, "tags"),
    "started": (DATE, "started"), "updated": (DATE, "last_update"), "last_update": (DATE, "last_update"),
    "created": (DATE, "created"),
    "iteration": (NUMBER, "last_iteration"), "iter": (NUMBER, "last_iteration"),
    "last_iteration": (NUMBER, "last_iteration"), "progress": (NUMBER, "progress"),
    "run_time": (DURATION, "run_time"), "runtime": (DURATION, "run_time"), "duration": (DURATION, "run_time"),
    "starred": (STARRED, "star"), "star": (STARRED, "star"), "is": (STARRED, "star"),
}
# The names offered by completion (one per field; the others are synonyms).
FIELD_NAMES = ("status", "type", "user", "project", "parent", "name", "id", "description", "tag", "started",
               "updated", "created", "iteration", "progress", "run_time", "starred", "is")


@dataclass
class Catalogue:
    """The metrics (metric, variant) and hyperparameters (section, name) a query may name."""
    metrics: Sequence[tuple[str, str]] = ()
    hyperparams: Sequence[tuple[str, str]] = ()

    def __post_init__(self):
        self._metric_paths: dict[str, tuple[str, str]] = {}
        self._metric_paths_folded: dict[str, tuple[str, str]] = {}
        for metric, variant in self.metrics:
            self._metric_paths.setdefault(f"{metric}/{variant}", (metric, variant))
            self._metric_paths_folded.setdefault(f"{metric}/{variant}".lower(), (metric, variant))
        self._hp_full: dict[str, list[tuple[str, str]]] = {}
        self._hp_names: dict[str, list[tuple[str, str]]] = {}
        for section, name in self.hyperparams:
            for full in (f"{section}/{name}".lower(), f"{section}.{name}".lower()):
                self._hp_full.setdefault(full, []).append((section, name))
            self._hp_names.setdefault(name.lower(), []).append((section, name))

    def metric(self, path: str) -> tuple[str, str] | None:
        return self._metric_paths.get(path) or self._metric_paths_folded.get(path.lower())

    def hyperparams_named(self, text: str) -> list[tuple[str, str]]:
        """"section/name" or "section.name" exactly, else every section's parameter called ``text``."""
        found = self._hp_full.get(text.lower())
        if found:
            return list(dict.fromkeys(found))
        return list(self._hp_names.get(text.lower(), ()))


def catalogue_for(scope: "Scope") -> Catalogue:
    """The metrics and hyperparameters of ``scope``'s experiments (two DISTINCT queries)."""
    from exptable_desktop.store import bulk
    return Catalogue(bulk.metric_variants(scope), bulk.hyperparam_names(scope))


def catalogue_of_table(table: "ExperimentTable") -> Catalogue:
    """A catalogue of the custom columns ``table`` holds already (no database)."""
    metrics, hyperparams = [], []
    for key in list(table.metrics) + list(table.hyperparams):
        spec = spec_for(key)
        if spec.kind == METRIC:
            metrics.append(spec.source[:2])
        else:
            hyperparams.append(spec.source)
    return Catalogue(list(dict.fromkeys(metrics)), hyperparams)


@dataclass(frozen=True)
class Field:
    """What a search field name stands for: its kind and the table columns it searches (several: any of them)."""
    kind: str
    columns: tuple[str, ...]  # table column (built-ins) or custom column keys (several: OR)


def _metric_field(body: str, catalogue: Catalogue) -> str | None:
    for fld in METRIC_FIELD_LABELS:
        suffix = "." + fld
        if body.lower().endswith(suffix):
            pair = catalogue.metric(body[:-len(suffix)])
            if pair:
                return metric_key(pair[0], pair[1], fld)
    pair = catalogue.metric(body)
    if pair:
        return metric_key(pair[0], pair[1], "last")
    try:  # the column key itself: metric:<metric>/<variant>/<field>, percent-quoted
        spec = spec_for("metric:" + body)
    except ValueError:
        return None
    return spec.key if spec.kind == METRIC and catalogue.metric("/".join(spec.source[:2])) else None


def resolve_field(term: Term, catalogue: Catalogue) -> Field:
    name = term.name
    lowered = name.lower()
    if lowered in BUILTIN_FIELDS:
        kind, column = BUILTIN_FIELDS[lowered]
        return Field(kind, (column,))
    where = (term.position, term.name_end)
    if lowered.startswith("metric:"):
        key = _metric_field(name[len("metric:"):], catalogue)
        if key is None:
            raise QueryError(f"no metric {name[len('metric:'):]!r} here (write metric:<metric>/<variant>[.max])",
                             *where)
        return Field(METRIC, (key,))
    if lowered.startswith("hp:"):
        body = name[len("hp:"):]
        pairs = catalogue.hyperparams_named(body)
        if not pairs:
            try:
                spec = spec_for("hp:" + body)
            except ValueError:
                spec = None
            if spec is not None and spec.kind == HYPERPARAM and spec.source in set(catalogue.hyperparams):
                pairs = [spec.source]
        if not pairs:
            raise QueryError(f"no hyperparameter {body!r} here", *where)
        return Field(HYPERPARAM, tuple(hyperparam_key(s, n) for s, n in pairs))
    pairs = catalogue.hyperparams_named(name)
    if pairs:
        return Field(HYPERPARAM, tuple(hyperparam_key(s, n) for s, n in pairs))
    key = _metric_field(name, catalogue)
    if key is not None:
        return Field(METRIC, (key,))
    raise QueryError(f"unknown field {name!r}: not a column, hyperparameter or metric here", *where)


# ---- Values -------------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)
_UNIT_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def parse_duration(text: str) -> float | None:
    """Seconds from ``90``, ``45s``, ``1h30m``, ``2d``, ``1.5h``; None when it is none of these."""
    number = _number(text)
    if number is not None:
        return number
    text = text.strip().lower()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != text.replace(" ", ""):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _local_midnight(year: int, month: int, day: int) -> float:
    return time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))


def parse_date(text: str, now: float | None = None) -> tuple[float, float] | None:
    """(start, end) epoch seconds of a date (a whole local day), a date-time (that minute or second),
    ``today``/``yesterday``, or an age like ``3d`` (that instant: now minus it); None if not a date."""
    now = time.time() if now is None else now
    lowered = text.strip().lower()
    if lowered in ("today", "yesterday"):
        t = time.localtime(now)
        start = _local_midnight(t.tm_year, t.tm_mon, t.tm_mday) - (86400 if lowered == "yesterday" else 0)
        start = _local_midnight(*time.localtime(start + 3600)[:3])  # a DST day is not 86,400 s long
        return start, _local_midnight(*time.localtime(start + 90000)[:3])
    match = _DATE.match(text.strip())
    if match:
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        if match[4] is None:
            start = _local_midnight(year, month, day)
            following = time.localtime(start + 90000)  # the next day, whatever DST does
            return start, _local_midnight(following.tm_year, following.tm_mon, following.tm_mday)
        hour, minute = int(match[4]), int(match[5])
        second = int(match[6]) if match[6] is not None else None
        if hour > 23 or minute > 59 or (second or 0) > 59:
            return None
        start = time.mktime((year, month, day, hour, minute, second or 0, 0, 0, -1))
        return start, start + (1 if second is not None else 60)
    if lowered and lowered[-1] in _UNIT_SECONDS and _number(lowered) is None:
        age = parse_duration(lowered)
        if age is not None:
            return now - age, now - age
    return None


_TRUE = frozenset({"yes", "true", "1", "starred", "y", "on"})
_FALSE = frozenset({"no", "false", "0", "unstarred", "n", "off"})


# ---- Compiling to predicates over the table's arrays ------------------------------------------

Predicate = Callable[["ExperimentTable", np.ndarray], np.ndarray]


def _regex(value: Value, term: Term) -> re.Pattern:
    try:
        return re.compile(value.text, re.IGNORECASE)
    except re.error as exc:
        raise QueryError(f"invalid regular expression: {exc.msg}", term.position, term.end) from None


def _text_matcher(term: Term) -> Callable[[str], bool]:
    """How a text cell matches the term's values (any of them)."""
    tests = []
    for value in term.values:
        if value.regex or term.op == "~":
            tests.append(_regex(value, term).search)
        elif term.op == ":":
            needle = value.text.lower()
            tests.append(lambda s, n=needle: n in s.lower())
        else:  # = and !=
            exact = value.text.lower()
            tests.append(lambda s, e=exact: s.lower() == e)
    if len(tests) == 1:
        one = tests[0]
        return lambda s: bool(one(s))
    return lambda s: any(t(s) for t in tests)


def _category_predicate(kind_column: str, term: Term) -> Predicate:
    """Membership over a Categorical: the matching codes are found once per call among the distinct
    values, then one lookup per row."""
    wants_missing = any(v.text == "" and v.quoted for v in term.values)
    values = [v for v in term.values if not (v.text == "" and v.quoted)]
    column = kind_column

    patterns = [_regex(v, term) if (v.regex or term.op == "~") else None for v in values]

    def matches_value(key, label: str) -> bool:
        key_text = "" if key is None else str(key)
        for value, pattern in zip(values, patterns):
            if pattern is not None:
                if pattern.search(label) or pattern.search(key_text):
                    return True
                continue
            wanted = value.text.lower()
            if column == "project":
                # A project and its sub-projects, named by any run of path components ("cnn", "vision/cnn").
                if f"/{wanted}/" in f"/{label.lower()}/":
                    return True
            elif column == "status":
                if wanted in (key_text.lower(), label.lower()) or (wanted == st.CLOSED and key_text == st.COMPLETED):
                    return True
            elif wanted in (key_text.lower(), label.lower()):
                return True
        return False

    def predicate(table, slots):
        cat = table.cats.get(column) if column in table.cats else table.hyperparams.get(column)
        if cat is None:
            return np.zeros(len(slots), bool)
        lookup = np.zeros(len(cat.keys) + 1, bool)  # the last entry answers code -1 (no value)
        for code, (key, label) in enumerate(zip(cat.keys, cat.labels)):
            lookup[code] = matches_value(key, label)
        lookup[-1] = wants_missing
        return lookup[cat.codes[slots]]
    return predicate


def _negated_if(op: str, predicate: Predicate) -> Predicate:
    if op != "!=":
        return predicate

    def negated(table, slots):
        return ~predicate(table, slots)
    return negated


def _comparison(op: str, low: float, high: float) -> Callable[[np.ndarray], np.ndarray]:
    """The numeric test for ``op`` against a value that covers [low, high) (a day, a minute) or is one
    number (low == high). NaN (no value) never passes."""
    point = low == high
    if op in (":", "="):
        return (lambda v: v == low) if point else (lambda v: (v >= low) & (v < high))
    if op == "!=":
        return (lambda v: ~np.isnan(v) & (v != low)) if point else (lambda v: ~np.isnan(v) & ((v < low) | (v >= high)))
    if op == ">":
        return (lambda v: v > low) if point else (lambda v: v >= high)
    if op == ">=":
        return lambda v: v >= low
    if op == "<":
        return lambda v: v < low
    if op == "<=":
        return (lambda v: v <= low) if point else (lambda v: v < high)
    raise ValueError(op)


def _numeric_predicate(kind: str, column: str, term: Term, now: float) -> Predicate:
    if term.op == "~":
        raise QueryError(f"'~' matches text; {term.name} holds {'dates' if kind == DATE else 'numbers'}",
                         term.position, term.end)
    if len(term.values) != 1:
        # Alternatives of numbers: any of them (only = and : get here with several values).
        parts = [_numeric_predicate(kind, column, Term(term.name, term.op, (v,), term.position, term.end,
                                                       term.name_end), now) for v in term.values]
        if term.op == "!=":
            return lambda table, slots: np.logical_and.reduce([p(table, slots) for p in parts])
        return lambda table, slots: np.logical_or.reduce([p(table, slots) for p in parts])
    value = term.values[0]
    if value.regex:
        raise QueryError(f"{term.name} holds {'dates' if kind == DATE else 'numbers'}, not text",
                         term.position, term.end)
    if value.quoted and value.text == "":
        missing = term.op in (":", "=")
        if term.op not in (":", "=", "!="):
            raise QueryError('"" (no value) goes with ":", "=" or "!="', term.position, term.end)

        def empty(table, slots):
            values = _numbers_of(table, column, slots)
            return np.isnan(values) if missing else ~np.isnan(values)
        return empty
    if kind == DATE:
        span = parse_date(value.text, now)
        if span is None:
            raise QueryError(f"{value.text!r} is not a date (2026-11-01, 2026-11-01T14:30, today, 3d)",
                             term.name_end, term.end)
    elif kind == DURATION:
        seconds = parse_duration(value.text)
        if seconds is None:
            raise QueryError(f"{value.text!r} is not a duration (90, 45s, 1h30m, 2d)", term.name_end, term.end)
        span = (seconds, seconds)
    else:
        number = _number(value.text)
        if number is None:
            raise QueryError(f"{value.text!r} is not a number", term.name_end, term.end)
        span = (number, number)
    test = _comparison(term.op, *span)

    def predicate(table, slots):
        values = _numbers_of(table, column, slots)
        with np.errstate(invalid="ignore"):
            return test(values)
    return predicate


def _numbers_of(table, column: str, slots: np.ndarray) -> np.ndarray:
    source = table.nums.get(column)
    if source is None:
        source = table.metrics.get(column)
    if source is None:
        return np.full(len(slots), np.nan)
    return source[slots]


def _hyperparam_predicate(keys: tuple[str, ...], term: Term) -> Predicate:
    """Hyperparameter values are text: compared as numbers where both sides are numbers, else as
    text (case-insensitive); one test per distinct value, then one lookup per row."""
    if term.op in ("<", "<=", ">", ">="):
        value = term.values[0]
        number = _number(value.text)
        if number is None or value.regex:
            raise QueryError(f"{term.op!r} compares numbers; {value.text!r} is not one", term.name_end, term.end)
        test = _comparison(term.op, number, number)

        def matches_label(label: str) -> bool:
            parsed = _number(label)
            return parsed is not None and bool(test(np.float64(parsed)))
        wants_missing = False
    else:
        wants_missing = any(v.text == "" and v.quoted for v in term.values)
        values = [v for v in term.values if not (v.text == "" and v.quoted)]
        patterns = [_regex(v, term) if (v.regex or term.op == "~") else None for v in values]

        def matches_label(label: str) -> bool:
            label_number = _number(label)
            for value, pattern in zip(values, patterns):
                if pattern is not None:
                    if pattern.search(label):
                        return True
                    continue
                number = _number(value.text)
                if number is not None and label_number is not None:
                    if number == label_number:
                        return True
                elif value.text.lower() == label.lower():
                    return True
            return False

    def one_column(table, key, slots):
        cat = table.hyperparams.get(key)
        if cat is None:
            return np.full(len(slots), wants_missing)
        lookup = np.zeros(len(cat.labels) + 1, bool)
        for code, label in enumerate(cat.labels):
            lookup[code] = matches_label(label)
        lookup[-1] = wants_missing
        return lookup[cat.codes[slots]]

    def predicate(table, slots):
        result = one_column(table, keys[0], slots)
        for key in keys[1:]:
            result = result | one_column(table, key, slots)
        return result
    return _negated_if(term.op, predicate)


def _tag_predicate(term: Term) -> Predicate:
    if term.op in ("<", "<=", ">", ">="):
        raise QueryError(f"tags cannot be compared with {term.op!r}", term.position, term.end)
    wants_untagged = any(v.text == "" and v.quoted for v in term.values)
    values = [v for v in term.values if not (v.text == "" and v.quoted)]
    patterns = [_regex(v, term) if (v.regex or term.op == "~") else None for v in values]

    def predicate(table, slots):
        names = set()
        for tag_name, _bg, _fg in table.tag_info.values():
            for value, pattern in zip(values, patterns):
                if (pattern.search(tag_name) if pattern is not None else tag_name.lower() == value.text.lower()):
                    names.add(tag_name)
        flt = TagFilter("any", frozenset(names), frozenset(), wants_untagged)
        if not flt.active:
            return np.zeros(len(slots), bool)
        # The table's own tag filter: one bit test per tag over the rows.
        return table._column_mask("tags", flt, slots)
    return _negated_if(term.op, predicate)


def _starred_predicate(term: Term) -> Predicate:
    if term.op not in (":", "=", "!="):
        raise QueryError(f"{term.name} is yes or no; compare it with ':'", term.position, term.end)
    wanted = set()
    for value in term.values:
        text = value.text.lower()
        if text in _TRUE:
            wanted.add(True)
        elif text in _FALSE:
            wanted.add(False)
        else:
            raise QueryError(f"{term.name}:{value.text} — expected {term.name}:yes or {term.name}:no"
                             if term.name.lower() != "is" else f"is:{value.text} — only is:starred is known",
                             term.name_end, term.end)

    def predicate(table, slots):
        cat = table.cats.get("star")
        if cat is None:
            starred = np.zeros(len(slots), bool)
        else:
            code = cat.lookup.get("starred", -2)
            starred = cat.codes[slots] == code
        out = np.zeros(len(slots), bool)
        if True in wanted:
            out |= starred
        if False in wanted:
            out |= ~starred
        return out
    return _negated_if(term.op, predicate)


def _text_predicate(column: str, term: Term) -> Predicate:
    if term.op in ("<", "<=", ">", ">="):
        raise QueryError(f"{term.name} is text; compare it with ':', '=', '!=' or '~'", term.position, term.end)
    wants_empty = any(v.text == "" and v.quoted for v in term.values)
    matcher = _text_matcher(Term(term.name, term.op, tuple(v for v in term.values if not (v.text == "" and v.quoted))
                                 or (Value("\0never\0"),), term.position, term.end, term.name_end))

    def predicate(table, slots):
        source = table.ids if column == "id" else table.text[column]
        texts = source[slots].tolist()
        if wants_empty:
            return np.fromiter((t == "" or matcher(t) for t in texts), bool, len(texts))
        return np.fromiter(map(matcher, texts), bool, len(texts))
    return _negated_if(term.op, predicate)


def _plain_text_predicate(node: Text) -> Predicate:
    """Name, id or description contains the text (or matches the regex), ignoring case."""
    if node.value.regex:
        search = re.compile(node.value.text, re.IGNORECASE).search

        def regex(table, slots):
            texts = table.search_text[slots].tolist()
            return np.fromiter((search(s) is not None for s in texts), bool, len(texts))
        return regex
    needle = node.value.text.lower()

    def contains(table, slots):
        texts = table.search_text[slots].tolist()
        return np.fromiter((needle in s for s in texts), bool, len(texts))
    return contains


# Relative cost of a predicate per row: AND and OR ask the dearer parts only about the rows the
# cheaper ones left undecided (a text scan is a Python-level pass, a number test one numpy op).
_CHEAP, _DEAR = 1, 20


def _compile(node: Node, catalogue: Catalogue, columns: list[str], now: float) -> tuple[Predicate, int]:
    """The predicate of ``node`` and its cost."""
    if isinstance(node, Text):
        return _plain_text_predicate(node), _DEAR
    if isinstance(node, Not):
        inner, cost = _compile(node.child, catalogue, columns, now)
        return (lambda table, slots: ~inner(table, slots)), cost
    if isinstance(node, (And, Or)):
        compiled = [_compile(c, catalogue, columns, now) for c in node.children]
        parts = [p for p, _c in sorted(compiled, key=lambda pc: pc[1])]
        is_and = isinstance(node, And)

        def combined(table, slots):
            result = parts[0](table, slots)
            for part in parts[1:]:
                # AND: only rows still in; OR: only rows not in yet.
                undecided = np.flatnonzero(result if is_and else ~result)
                if not len(undecided):
                    break
                result[undecided] = part(table, slots[undecided])
            return result
        return combined, sum(c for _p, c in compiled)
    term = node
    resolved = resolve_field(term, catalogue)
    kind, first = resolved.kind, resolved.columns[0]
    if kind in (METRIC, HYPERPARAM):
        columns.extend(resolved.columns)
    if kind == CATEGORY:
        if term.op in ("<", "<=", ">", ">="):
            raise QueryError(f"{term.name} is a category; compare it with ':', '=', '!=' or '~'",
                             term.position, term.end)
        return _negated_if(term.op, _category_predicate(first, term)), _CHEAP
    if kind == TEXT_FIELD:
        return _text_predicate(first, term), _DEAR
    if kind == TAGS:
        return _tag_predicate(term), _CHEAP
    if kind == STARRED:
        return _starred_predicate(term), _CHEAP
    if kind == HYPERPARAM:
        return _hyperparam_predicate(resolved.columns, term), _CHEAP
    return _numeric_predicate(kind if kind != METRIC else NUMBER, first, term, now), _CHEAP


@dataclass
class CompiledQuery:
    """A query resolved against a catalogue: the custom columns it reads and its predicate."""
    query: Query
    columns: list[str]
    predicate: Predicate

    def evaluate(self, table: "ExperimentTable", slots: np.ndarray | None = None) -> np.ndarray:
        """One bool per slot of ``slots`` (default: every slot the table has, alive or not)."""
        if slots is None:
            slots = np.arange(table.n)
        slots = np.asarray(slots, np.int64)
        if not len(slots):
            return np.zeros(0, bool)
        return np.asarray(self.predicate(table, slots), bool)


def compile_query(query: Query | str, catalogue: Catalogue, now: float | None = None) -> CompiledQuery:
    """Resolve every field of ``query`` and check every value; QueryError points at the culprit."""
    if isinstance(query, str):
        query = parse(query)
    columns: list[str] = []
    predicate, _cost = _compile(query.root, catalogue, columns, time.time() if now is None else now)
    return CompiledQuery(query, list(dict.fromkeys(columns)), predicate)


def missing_columns(table: "ExperimentTable", keys: Iterable[str]) -> list[str]:
    return [k for k in keys if not table.has_column_data(k)]


def load_columns(table: "ExperimentTable", scope: "Scope", keys: Iterable[str]) -> list[str]:
    """Read the custom columns among ``keys`` that ``table`` lacks (or holds only in part), in bulk;
    returns the keys read."""
    from exptable_desktop.core.table_loading import covers_most_of_db, load_custom_columns

    missing = missing_columns(table, keys)
    if missing:
        for key, rows in load_custom_columns(scope, missing, whole_db=covers_most_of_db(table),
                                             expected_rows=table.n):
            table.add_custom_column(key, rows)
    return missing


def evaluate(query: Query | str | CompiledQuery, table: "ExperimentTable", slots: np.ndarray | None = None, *,
             scope: "Scope | None" = None, catalogue: Catalogue | None = None) -> np.ndarray:
    """Which of ``slots`` (default: all of the table's) match ``query``: a numpy bool array.

    Fields resolve against ``catalogue``; without one, against the database's metrics and
    hyperparameters of ``scope`` when given, else against the custom columns ``table`` holds.
    With ``scope``, custom columns the query names and the table lacks are read first, in bulk.
    """
    if not isinstance(query, CompiledQuery):
        if catalogue is None:
            catalogue = catalogue_for(scope) if scope is not None else catalogue_of_table(table)
        query = compile_query(query, catalogue)
    if scope is not None:
        load_columns(table, scope, query.columns)
    return query.evaluate(table, slots)


class QuerySearch:
    """What the table's search holds for a query (see ExperimentTable.set_search): it answers
    ``matches(table, slots)``, and refreshes of a few rows ask it about those rows only."""

    regex = False

    def __init__(self, compiled: CompiledQuery):
        self.compiled = compiled
        self.text = compiled.query.text

    @property
    def active(self) -> bool:
        return True

    @property
    def columns(self) -> list[str]:
        return self.compiled.columns

    def matches(self, table: "ExperimentTable", slots: np.ndarray) -> np.ndarray:
        return self.compiled.evaluate(table, slots)

    def __repr__(self) -> str:
        return f"QuerySearch({self.text!r})"


# ---- Completion ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompletionContext:
    """What the word under the cursor is: ``start`` where it begins, ``prefix`` what is typed of it,
    ``field`` the field whose value it is (None: a field name or plain text)."""
    start: int
    prefix: str
    field: str | None = None


def completion_context(text: str, cursor: int) -> CompletionContext:
    """The part of ``text`` before ``cursor`` a completion would replace."""
    cursor = max(0, min(cursor, len(text)))
    start = cursor
    in_quote = False
    # Walk back to the start of the word (whitespace or "(" outside quotes ends it).
    quotes = text[:cursor].count('"') % 2 == 1
    while start > 0:
        char = text[start - 1]
        if char == '"':
            in_quote = not in_quote
        if not quotes and not in_quote and (char.isspace() or char in "()"):
            break
        if quotes and char == '"' and not in_quote:
            start -= 1
            break
        start -= 1
    word = text[start:cursor]
    if word.startswith("-"):
        start += 1
        word = word[1:]
    lowered = word.lower()
    name_end = -1
    if lowered.startswith(("metric:", "hp:")):
        body_start = word.index(":") + 1
        for i in range(body_start, len(word)):
            if word[i] in "=<>~" or word.startswith("!=", i) or word[i] == ":":
                name_end = i
                break
    else:
        for i, char in enumerate(word):
            if char in ":=<>~" or word.startswith("!=", i):
                name_end = i
                break
    if name_end < 0:
        return CompletionContext(start, word, None)
    op_end = name_end + (2 if word[name_end:name_end + 2] in (">=", "<=", "!=") else 1)
    value = word[op_end:]
    bar = value.rfind("|")
    value_start = start + op_end + (bar + 1 if bar >= 0 else 0)
    return CompletionContext(value_start, value[bar + 1:] if bar >= 0 else value, word[:name_end])


def field_suggestions(catalogue: Catalogue) -> list[str]:
    """Every field name a query may use, built-ins first (each followed by ':' or an operator)."""
    out = [f"{name}:" for name in FIELD_NAMES]
    out += [f"metric:{m}/{v}.{f}" for m, v in catalogue.metrics for f in ("last", "min", "max")]
    names = {}
    for section, name in catalogue.hyperparams:
        names.setdefault(name, []).append(section)
    for name, sections in names.items():
        out.append(f"{name}:" if len(sections) == 1 else f"{sections[0]}/{name}:")
        if len(sections) > 1:
            out.extend(f"{s}/{name}:" for s in sections[1:])
    return list(dict.fromkeys(out))


def value_suggestions(field_name: str, table: "ExperimentTable", catalogue: Catalogue,
                      scope: "Scope | None" = None) -> list[str]:
    """Values ``field_name`` holds in ``table`` (categories, tags, hyperparameter values); the values of a
    hyperparameter column the table has not read come from the database when ``scope`` is given."""
    lowered = field_name.lower()
    if lowered in BUILTIN_FIELDS:
        kind, column = BUILTIN_FIELDS[lowered]
        if kind == CATEGORY:
            if column == "status":
                return [st.status_label(s).lower() for s in st.FILTER_STATUSES]
            if column == "type":
                return list(st.TASK_TYPES)
            cat = table.cats.get(column)
            return sorted({label for label in cat.labels if label}, key=str.lower) if cat else []
        if kind == TAGS:
            return sorted({info[0] for info in table.tag_info.values()}, key=str.lower)
        if kind == STARRED:
            return ["starred"] if lowered == "is" else ["yes", "no"]
        if kind == DATE:
            return ["today", "yesterday", "1d", "7d", "30d"]
        return []
    try:
        resolved = resolve_field(Term(field_name, ":", (Value("x"),)), catalogue)
    except QueryError:
        return []
    if resolved.kind != HYPERPARAM:
        return []
    labels: set[str] = set()
    unread = []
    for key in resolved.columns:
        cat = table.hyperparams.get(key)
        if cat is not None and key not in table.partial:
            labels.update(label for label in cat.labels if label)
        else:
            unread.append(spec_for(key).source)
    if unread and scope is not None:
        labels.update(hyperparam_values(scope, unread))
    return sorted(labels, key=lambda s: (_number(s) is None, _number(s) or 0.0, s.lower()))


def hyperparam_values(scope: "Scope", pairs: Sequence[tuple[str, str]], limit: int = 500) -> list[str]:
    """Distinct values of these (section, name) hyperparameters in ``scope`` (for completion)."""
    from exptable_desktop.store.schema import Experiment, HyperParam

    out: list[str] = []
    for section, name in pairs:
        query = (HyperParam.select(HyperParam.value).distinct()
                 .join(Experiment, on=(HyperParam.experiment == Experiment.id))
                 .where((HyperParam.section == section) & (HyperParam.name == name) & scope.where()
                        & (HyperParam.value != ""))
                 .limit(limit))
        out.extend(value for (value,) in query.tuples())
    return out


def quote_if_needed(text: str) -> str:
    """``text`` as a value a query reads back as itself."""
    return _quote(text) if _needs_quotes(text, value=True) else text
