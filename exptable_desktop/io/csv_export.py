"""The experiments table as CSV: the displayed columns in the displayed order, one row per experiment.

Values come either as the table shows them (6 decimals, compact durations, dates as the
tooltips show them) or at full precision (shortest exact floats, seconds, ISO 8601 UTC
times). Text a spreadsheet would run as a formula (a cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading ``'``; numbers are written as numbers,
negative ones included. Each column is formatted in one pass over its array, so 100,000
rows of 40 columns take a second or two, not a call per cell.
"""
from __future__ import annotations

import csv
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence, TextIO

import numpy as np

from exptable_desktop.core import columns as C
from exptable_desktop.core import formatting as fmt
from exptable_desktop.core.filters import AnyFilter, SearchQuery
from exptable_desktop.core.experiment_table import ExperimentTable, column_array
from exptable_desktop.core.table_loading import load_table
from exptable_desktop.store.bulk import Scope

BOM = "\ufeff"
# Rows formatted and written at a time: the progress callback runs between blocks.
BLOCK_ROWS = 10_000
# What spreadsheets read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class ExportCancelled(Exception):
    """The person cancelled the export; the partial output is theirs to discard."""


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV export writes values: as shown or at full precision, with or without a byte order mark."""
    precise: bool = False        # full precision instead of values as shown
    bom: bool = False            # a UTF-8 byte order mark first (what Excel on Windows wants)
    precise_keys: frozenset[str] = frozenset()  # metric columns the table shows at full precision anyway


def neutralize(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a formula-looking cell gets a leading ``'``.

    A number (``-0.5``, ``+3``, ``1e-9``) is left alone: it cannot run anything, and the
    spreadsheet should read it as the number it is.
    """
    if text and text[0] in FORMULA_STARTS and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _neutralize_many(texts: Iterable[str]) -> list[str]:
    starts = FORMULA_STARTS
    return [("'" + t if not _NUMBER.fullmatch(t) else t) if t and t[0] in starts else t for t in texts]


# ---- One column at a time -----------------------------------------------------------------

def _rounded(values: np.ndarray) -> list[str]:
    """``formatting.rounded_float`` for a whole array: integers plain, others to 6 decimals,
    trailing zeros dropped; NaN as ""."""
    out = [f"{v:.6f}".rstrip("0").rstrip(".") for v in values.tolist()]
    finite = np.isfinite(values)
    whole = finite & (np.abs(values) < 1e15) & (values == np.round(values))
    for i in np.flatnonzero(whole).tolist():
        out[i] = str(int(values[i]))
    for i in np.flatnonzero(~finite).tolist():
        v = values[i]
        out[i] = "" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    for i, text in enumerate(out):
        if text == "-0":
            out[i] = "0"
    return out


def _precise(values: np.ndarray) -> list[str]:
    out = list(map(repr, values.tolist()))
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = ""
    return out


def _whole_numbers(values: np.ndarray) -> list[str]:
    out = [""] * len(values)
    present = np.flatnonzero(~np.isnan(values))
    for i, v in zip(present.tolist(), values[present].astype(np.int64).tolist()):
        out[i] = str(v)
    return out


def _iso_utc(values: np.ndarray) -> list[str]:
    """Epoch seconds as ``2026-11-26T14:05:58.846123Z`` (microseconds kept), in one numpy call."""
    out = [""] * len(values)
    present = np.flatnonzero(~np.isnan(values))
    if len(present):
        stamps = (values[present] * 1e6).round().astype("datetime64[us]")
        texts = np.datetime_as_string(stamps, unit="us")
        for i, text in zip(present.tolist(), texts.tolist()):
            out[i] = text + "Z"
    return out


def _exact_dates(values: np.ndarray) -> list[str]:
    """``formatting.exact_date`` (``MMM d yyyy H:mm``, local time) for a whole array: local time is
    worked out once per distinct UTC offset hour rather than once per cell."""
    out = [""] * len(values)
    present = np.flatnonzero(~np.isnan(values))
    if not len(present):
        return out
    seconds = np.floor(values[present]).astype(np.int64)
    hours = seconds // 3600
    distinct, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array([time.localtime(int(h) * 3600).tm_gmtoff for h in distinct.tolist()], np.int64)
    local = (seconds + offsets[inverse]).astype("datetime64[s]")
    months = fmt.MONTHS
    for i, text in zip(present.tolist(), np.datetime_as_string(local, unit="m").tolist()):
        # "2026-11-26T05:07" -> "Nov 26 2026 5:07"
        out[i] = f"{months[int(text[5:7]) - 1]} {int(text[8:10])} {text[:4]} {int(text[11:13])}:{text[14:16]}"
    return out


def _durations(values: np.ndarray) -> list[str]:
    out = [""] * len(values)
    present = np.flatnonzero(~np.isnan(values))
    compact = fmt.compact_duration
    for i, v in zip(present.tolist(), values[present].tolist()):
        out[i] = compact(v)
    return out


def _text(values: np.ndarray) -> list[str]:
    return _neutralize_many(values.tolist())


def _hyperparams(values: np.ndarray) -> list[str]:
    # Few distinct values per column: each is checked once.
    distinct = {v: neutralize(v) for v in set(values.tolist())}
    return [distinct[v] for v in values.tolist()]


def _tags(values: np.ndarray) -> list[str]:
    joined: dict[tuple, str] = {}
    return [joined.get(t) if t in joined else joined.setdefault(t, neutralize(", ".join(t)))
            for t in values.tolist()]


def format_column(table: ExperimentTable, key: str, slots: np.ndarray, options: CsvOptions) -> list[str]:
    """The cells of column ``key`` at ``slots``, as the CSV writes them."""
    return format_values(key, column_array(table, key, slots), options)


def format_values(key: str, values: np.ndarray, options: CsvOptions) -> list[str]:
    """Cells of column ``key`` from its values (``experiment_table.column_array``'s shapes)."""
    kind = C.spec_for(key).kind
    if kind == C.METRIC:
        return _precise(values) if options.precise or key in options.precise_keys else _rounded(values)
    if kind == C.DATE:
        return _iso_utc(values) if options.precise else _exact_dates(values)
    if kind == C.DURATION:
        return _precise(values) if options.precise else _durations(values)
    if kind == C.NUMBER:
        return _whole_numbers(values)
    if kind == C.TAGS:
        return _tags(values)
    if kind in (C.HYPERPARAM, C.CATEGORY, C.TYPE, C.STATUS):
        return _hyperparams(values)
    return _text(values)


def header_titles(keys: Sequence[str]) -> list[str]:
    """Column titles as the table's header shows them (custom columns say what they hold)."""
    return [neutralize(C.spec_for(key).title or key) for key in keys]


def exportable_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` without the selection checkbox; ValueError naming the first unknown key."""
    out = []
    for key in keys:
        spec = C.spec_for(key)  # ValueError for an unknown key
        if spec.kind != C.CHECK and key not in out:
            out.append(key)
    if not out:
        raise ValueError("no columns to export")
    return out


# ---- Writing ----------------------------------------------------------------------------

def write_csv(out: TextIO, table: ExperimentTable, keys: Sequence[str], slots: np.ndarray | None = None,
              options: CsvOptions = CsvOptions(),
              on_progress: Callable[[int, int], bool | None] | None = None) -> int:
    """Write the rows ``slots`` (default: the table's order on screen) of ``keys`` to ``out``.

    ``out`` is a text file opened with ``newline=""``. ``on_progress(done, total)`` is called
    after each block of rows; returning False cancels (ExportCancelled). Returns the rows written.
    """
    keys = exportable_keys(keys)
    slots = table.order if slots is None else np.asarray(slots, np.int64)
    total = len(slots)
    writer = csv.writer(out, lineterminator="\r\n")
    if options.bom:
        out.write(BOM)
    writer.writerow(header_titles(keys))
    for start in range(0, total, BLOCK_ROWS):
        block = slots[start:start + BLOCK_ROWS]
        writer.writerows(zip(*(format_column(table, key, block, options) for key in keys)))
        if on_progress is not None and on_progress(start + len(block), total) is False:
            raise ExportCancelled(f"export cancelled after {start + len(block):,} of {total:,} rows")
    if on_progress is not None and total == 0:
        on_progress(0, 0)
    return total


@dataclass
class Snapshot:
    """The cells to export, copied out of a table: another thread formats and writes them while
    the table on screen goes on refreshing."""
    keys: list[str]
    columns: dict[str, np.ndarray]
    rows: int


def snapshot(table: ExperimentTable, keys: Sequence[str], slots: np.ndarray | None = None) -> Snapshot:
    """Copy the columns ``keys`` at ``slots`` (default: the rows on screen, in their order); numpy copies,
    quick enough for the UI thread at 100,000 rows."""
    keys = exportable_keys(keys)
    slots = np.array(table.order if slots is None else slots, np.int64)
    return Snapshot(keys, {key: column_array(table, key, slots) for key in keys}, len(slots))


def write_snapshot(out: TextIO, snap: Snapshot, options: CsvOptions = CsvOptions(),
                   on_progress: Callable[[int, int], bool | None] | None = None) -> int:
    """``write_csv`` for a Snapshot."""
    writer = csv.writer(out, lineterminator="\r\n")
    if options.bom:
        out.write(BOM)
    writer.writerow(header_titles(snap.keys))
    total = snap.rows
    for start in range(0, total, BLOCK_ROWS):
        end = min(start + BLOCK_ROWS, total)
        writer.writerows(zip(*(format_values(key, snap.columns[key][start:end], options) for key in snap.keys)))
        if on_progress is not None and on_progress(end, total) is False:
            raise ExportCancelled(f"export cancelled after {end:,} of {total:,} rows")
    if on_progress is not None and total == 0:
        on_progress(0, 0)
    return total


def table_for_export(scope: Scope, keys: Sequence[str], *, sort: Sequence[tuple[str, bool]] = (),
                     filters: dict[str, AnyFilter] | None = None, search: SearchQuery | Any = None,
                     user: str | None = None) -> ExperimentTable:
    """Every experiment of ``scope`` that matches ``filters`` and ``search`` (no row cap), read
    afresh from the database with the custom columns among ``keys``, sorted by ``sort``.

    ``search`` is the search box's: plain text (SearchQuery) or a query of the search language
    (core.query.QuerySearch), whose columns are read too. ``user``: whose stars the star column shows.
    """
    wanted = exportable_keys(keys)
    needed = (wanted + [key for key, _ in sort] + list(filters or {})
              + [key for key in getattr(search, "columns", ()) or ()])
    custom = list(dict.fromkeys(key for key in needed if C.spec_for(key).is_custom))
    table = load_table(scope, custom)
    if _STAR_KEY in needed or search is not None:
        _apply_stars(table, user)
    for key, flt in (filters or {}).items():
        table.set_filter(key, flt)
    table.set_search(search)
    if sort:
        table.set_sort(list(sort))
    return table


_STAR_KEY = "star"


def _apply_stars(table: ExperimentTable, user: str | None) -> None:
    """Fill the star column (core.stars) for ``user``, when this version has stars."""
    try:
        from exptable_desktop.core.stars import apply_stars, starred_ids
    except ImportError:
        return
    from exptable_desktop.paths import current_user
    apply_stars(table, starred_ids(user or current_user()))


def default_file_name(project_path: str | None) -> str:
    """As the reference names its download: ``ExpTable <project basename | All> Experiments-table.csv``."""
    base = (project_path or "").rstrip("/").rsplit("/", 1)[-1] or "All"
    base = re.sub(r'[\\/:*?"<>|\0]', "_", base)[:60]
    return f"ExpTable {base} Experiments-table.csv"
