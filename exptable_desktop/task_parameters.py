"""Typed parameter classes, as the reference SDK's ``clearml.task_parameters``::

    class Params(TaskParameters):
        iterations = param(type=int, desc="number of iterations", range=(0, 100000), default=10)
        target_accuracy = percent_param(desc="the accuracy to reach", default=0.9)

    params = Params(iterations=20)
    task.connect(params)          # recorded in section General; under an agent, edited values come back

Values are checked when set (type, range, validators), so a bad value fails at once with one line.
The reference builds these on ``attrs``; here the same behaviour needs nothing outside the standard library.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["range_validator", "param", "percent_param", "TaskParameters"]

_MISSING = object()


def range_validator(min_value: float | None, max_value: float | None) -> Callable[[Any, "_Param", Any], None]:
    """A validator for ``param(validator=...)``: the value lies in [min_value, max_value] (None: unbounded)."""
    def check(instance, attribute, value) -> None:
        if value is None:
            return
        if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
            raise ValueError(f"{attribute.name} must be in range [{min_value}, {max_value}], got {value!r}")
    return check


class _Param:
    """One declared parameter: its default, type and checks (what ``param`` returns)."""

    def __init__(self, validators: Sequence[Callable], type: type | None, desc: str | None, metadata: dict,
                 default: Any = _MISSING, factory: Callable[[], Any] | None = None):
        self.name = ""
        self.validators = list(validators)
        self.type = type
        self.desc = desc
        self.metadata = {**metadata, "desc": desc}
        self.default = default
        self.factory = factory

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def initial(self) -> Any:
        if self.factory is not None:
            return self.factory()
        return self.default

    def check(self, instance, value: Any) -> Any:
        if self.type is not None and value is not None and not isinstance(value, self.type):
            if self.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            else:
                raise TypeError(f"{self.name} must be {self.type.__name__}, got {type(value).__name__} {value!r}")
        for validator in self.validators:
            validator(instance, self, value)
        return value

    def __get__(self, instance, owner):
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.name] = self.check(instance, value)


def param(validator: Callable | Sequence[Callable] | None = None, range: tuple | None = None,
          type: type | None = None, desc: str | None = None, metadata: dict | None = None,
          default: Any = _MISSING, factory: Callable[[], Any] | None = None, **_: Any) -> Any:
    """A parameter of a ``TaskParameters`` class: ``validator`` (one or a list of ``f(instance, attribute,
    value)``), ``range`` ((min, max), inclusive, None for no limit), ``type``, ``desc``, ``default``."""
    validators = [] if validator is None else list(validator) if isinstance(validator, (list, tuple)) else [validator]
    if range is not None:
        validators.append(range_validator(*range))
    return _Param(validators, type, desc, dict(metadata or {}), default, factory)


def percent_param(*args: Any, **kwargs: Any) -> Any:
    """A float parameter in [0, 1]."""
    return param(*args, range=(0, 1), type=float, **kwargs)


class TaskParameters:
    """Base class of a parameter set; declare each parameter with ``param`` (see the module text).

    The constructor takes the parameters by name (in declaration order positionally too); one without
    a default must be given.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, _Param] = {}
        for klass in reversed(cls.__mro__):
            declared.update({k: v for k, v in vars(klass).items() if isinstance(v, _Param)})
        cls._params = declared

    def __init__(self, *args: Any, **kwargs: Any):
        names = list(self._params)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} positional arguments")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in self._params:
                raise TypeError(f"{type(self).__name__} has no parameter {key!r}")
            if key in values:
                raise TypeError(f"{type(self).__name__} got {key!r} twice")
            values[key] = value
        for name, declared in self._params.items():
            value = values.get(name, declared.initial())
            if value is _MISSING:
                raise TypeError(f"{type(self).__name__} needs a value for {name!r} (it has no default)")
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """Parameter name -> value."""
        return {name: getattr(self, name) for name in self._params}

    def update_from_dict(self, source_dict: dict[str, Any]) -> None:
        """Set parameters from a dict; an unknown key is an error (one line)."""
        for key, value in source_dict.items():
            if key not in self._params:
                raise ValueError(f"Unknown key {key} in {type(self).__name__} object")
            setattr(self, key, value)

    def connect(self, task) -> None:
        """Record on ``task`` (under an agent, the edited values replace these)."""
        task.connect(self)

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({inner})"


TaskParameters._params = {}
