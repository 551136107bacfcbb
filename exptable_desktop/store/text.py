"""Text as both databases keep it alike.

PostgreSQL refuses NUL and a VARCHAR value longer than the column, while SQLite
stores both as given; neither driver encodes a lone surrogate. Every text column
goes through these rules, so a name or a tag written by the SDK, the CLI or the
window reads back the same on either database, and a write never fails on them.
"""
from __future__ import annotations

import re
from typing import Any

from peewee import CharField, TextField

_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """NUL and lone surrogates as U+FFFD: a visible mark, not a silent gap."""
    if "\0" in text:
        text = text.replace("\0", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _SURROGATE.sub("\ufffd", text)
    return text


def storable_name(value: Any, limit: int) -> str:
    """A name for a VARCHAR(limit) column: NUL removed, cut to ``limit`` characters;
    anything that is not text is its ``str()``."""
    text = value if type(value) is str else str(value)
    if "\0" in text:
        text = text.replace("\0", "")
    return storable_text(text)[:limit]


class NameField(CharField):
    """A VARCHAR whose values are cut and cleaned the same way on every database."""

    def db_value(self, value):
        value = super().db_value(value)
        return storable_name(value, self.max_length) if isinstance(value, str) else value


class LongTextField(TextField):
    """A TEXT whose values are cleaned the same way on every database."""

    def db_value(self, value):
        value = super().db_value(value)
        return storable_text(value) if isinstance(value, str) else value
