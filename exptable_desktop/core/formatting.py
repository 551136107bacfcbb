"""How table values read: relative times, exact dates, durations, floats, tag colours."""
from __future__ import annotations

import math
import time

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FLOAT_DIGITS = 6

# Dark backgrounds that all carry white text (feature inventory 6.1): a tag with
# no colour of its own gets one of these by the sum of its character codes.
TAG_PALETTE = (
    "#1f6feb", "#8250df", "#bf3989", "#cf222e", "#bc4c00", "#9a6700", "#1a7f37", "#0f766e",
    "#0e7490", "#4338ca", "#6d28d9", "#a21caf", "#be123c", "#b45309", "#4d7c0f", "#047857",
    "#0369a1", "#475569", "#7c3aed", "#9f1239",
)
TAG_FOREGROUND = "#ffffff"


def relative_time(ts: float | None, now: float | None = None) -> str:
    """"5 minutes ago" in the buckets of the reference's timeAgo pipe."""
    if ts is None or (isinstance(ts, float) and math.isnan(ts)):
        return ""
    now = time.time() if now is None else now
    seconds = max(0.0, now - ts)
    if seconds <= 45:
        return "a few seconds ago"
    minutes = seconds / 60
    if minutes < 1.5:
        return "a minute ago"
    if minutes < 45:
        return f"{round(minutes)} minutes ago"
    hours = minutes / 60
    if hours < 1.5:
        return "an hour ago"
    if hours < 22:
        return f"{round(hours)} hours ago"
    days = hours / 24
    if days < 1.5:
        return "a day ago"
    if days < 26:
        return f"{round(days)} days ago"
    months = days / 30.44
    if months < 1.5:
        return "a month ago"
    if days < 320:
        return f"{round(months)} months ago"
    years = days / 365.25
    if years < 1.5:
        return "a year ago"
    return f"{round(years)} years ago"


def exact_date(ts: float | None) -> str:
    """``MMM d yyyy H:mm`` in local time, as the reference's tooltips."""
    if ts is None or (isinstance(ts, float) and math.isnan(ts)):
        return ""
    t = time.localtime(ts)
    return f"{MONTHS[t.tm_mon - 1]} {t.tm_mday} {t.tm_year} {t.tm_hour}:{t.tm_min:02d}"


def compact_duration(seconds: float | None) -> str:
    """At most two units: ``2:05d``, ``3:07h``, ``12:30m``, ``45s``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    if seconds < 1:
        return "<1s"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}:{hours:02d}d"
    if hours:
        return f"{hours}:{minutes:02d}h"
    if minutes:
        return f"{minutes}:{secs:02d}m"
    return f"{secs}s"


def split_duration(seconds: float) -> tuple[int, int, int, int]:
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return days, hours, minutes, secs


def rounded_float(value: float | None, digits: int = FLOAT_DIGITS) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def precise_float(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value))


def default_tag_colors(name: str) -> tuple[str, str]:
    return TAG_PALETTE[sum(ord(c) for c in name) % len(TAG_PALETTE)], TAG_FOREGROUND


def tag_colors(name: str, background: str | None, foreground: str | None) -> tuple[str, str]:
    bg, fg = default_tag_colors(name)
    return background or bg, foreground or (fg if not background else TAG_FOREGROUND)
