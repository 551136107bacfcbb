"""Turning Python values into stored parameters (text + type name) and back.

Every parameter is stored as text with the name of its Python type, like the
reference SDK ("int", "float", "bool", "str", "list", "NoneType"...), so an
edited value can be cast back to what the script expects.
"""
from __future__ import annotations

import ast
import json
from typing import Any, Mapping

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", "", "none"}


def type_name(value: Any) -> str:
    return type(value).__name__


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def cast(text: str, type_str: str, original: Any = None) -> Any:
    """``text`` as the recorded type; falls back to the original value's type, then to text.

    Raises ValueError with a one-line message when the text cannot be that type.
    """
    kind = (type_str or (type_name(original) if original is not None else "str")).lower()
    if kind in ("str", ""):
        return text
    if kind in ("nonetype", "none"):
        return None if text in ("", "None") else text
    if kind == "bool":
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{text!r} is not a bool (use true or false)")
    if kind == "int":
        try:
            return int(text.strip())
        except ValueError:
            as_float = float(text.strip())
            if as_float.is_integer():
                return int(as_float)
            raise ValueError(f"{text!r} is not an int") from None
    if kind == "float":
        return float(text.strip())
    if kind.startswith(("list", "tuple", "dict", "set")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = ast.literal_eval(text)
        if kind.startswith("tuple"):
            return tuple(parsed)
        if kind.startswith("set"):
            return set(parsed)
        return parsed
    return text


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}``; an empty nested dict stays a value."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def apply_flat(target: dict, flat: Mapping[str, Any]) -> None:
    """Write flattened ``a/b`` values back into the nested dict ``target`` in place."""
    for name, value in flat.items():
        node = target
        parts = name.split("/")
        for part in parts[:-1]:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
            continue
        target[name] = value


def public_attributes(obj: Any) -> dict[str, Any]:
    """The plain-data attributes of an object or class (what ``connect(obj)`` records)."""
    names = vars(obj) if not isinstance(obj, type) else {k: getattr(obj, k) for k in dir(obj)}
    return {k: v for k, v in dict(names).items()
            if not k.startswith("_") and not callable(v) and not isinstance(v, (staticmethod, classmethod, property))}
