"""Cache-key building blocks, ported from Flask-Caching 2.5 so that keys match upstream's.

The one deliberate difference is :func:`canonical`: dicts and sets among the arguments of a
memoized function are put in a sorted order first, so that equal arguments always give the
same key (Dash callbacks receive dicts and lists, for instance from pattern-matching ids).
Arguments that are already in that order keep exactly upstream's representation.
"""

from __future__ import annotations

import base64
import inspect
import math
import string
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

Timeout: TypeAlias = "int | float | timedelta"
QueryArgs: TypeAlias = "str | Mapping[str, Any] | Iterable[tuple[str, Any]]"

_VALID_CHARS = set(string.ascii_letters + string.digits + "_.")
_NULL_CONTROL = str.maketrans(
    {k: None for k in (chr(i) for i in range(256)) if k not in _VALID_CHARS}
)


def normalize_timeout(timeout: Timeout | str | None) -> int | None:
    """Whole seconds from an int, a float or a ``timedelta`` (rounded up, never to 0)."""
    if isinstance(timeout, str):
        timeout = int(timeout)
    if isinstance(timeout, timedelta):
        return math.ceil(timeout.total_seconds())
    if isinstance(timeout, float):
        return math.ceil(timeout)
    return timeout


def parameters(f: Callable[..., Any]) -> list[inspect.Parameter]:
    return list(inspect.signature(f).parameters.values())


def wants_args(f: Callable[..., Any]) -> bool:
    """Whether ``f`` takes any positional, ``*args`` or ``**kwargs`` parameter."""
    return any(p.kind != inspect.Parameter.KEYWORD_ONLY for p in parameters(f))


def wants_extra_args(f: Callable[..., Any]) -> bool:
    """Whether ``f`` takes more than one non-keyword-only parameter."""
    return sum(p.kind != inspect.Parameter.KEYWORD_ONLY for p in parameters(f)) > 1


def arg_names(f: Callable[..., Any]) -> list[str]:
    return [p.name for p in parameters(f) if p.kind == p.POSITIONAL_OR_KEYWORD]


def arg_default(f: Callable[..., Any], position: int) -> Any:
    default = parameters(f)[position].default
    return default if default != inspect.Parameter.empty else None


def get_id(obj: Any) -> str:
    """``obj.__caching_id__()`` if defined, else ``repr(obj)``: how an instance enters keys."""
    caching_id = getattr(obj, "__caching_id__", None)
    if caching_id is None:
        return repr(obj)
    return str(caching_id())


def query_args_as_pairs(query_args: QueryArgs) -> list[tuple[str, str]]:
    """``(key, value)`` pairs from a query string, a mapping or an iterable of pairs."""
    if isinstance(query_args, str):
        return parse_qsl(query_args.lstrip("?"), keep_blank_values=True)
    items: Iterable[tuple[str, Any]]
    if isinstance(query_args, MultiDict):
        items = query_args.items(multi=True)
    elif isinstance(query_args, Mapping):
        items = query_args.items()
    else:
        items = query_args
    return [(key, str(value)) for key, value in items]


def function_namespace(f: Callable[..., Any], args: Any = None) -> tuple[str, str | None]:
    """The namespace of ``f`` and, for a method, of ``f`` on its instance."""
    names = arg_names(f)
    instance_token = None
    instance_self = getattr(f, "__self__", None)
    if instance_self and not inspect.isclass(instance_self):
        instance_token = get_id(instance_self)
    elif names and names[0] == "self" and args:
        instance_token = get_id(args[0])
    if names and names[0] == "cls" and not (args and inspect.isclass(args[0])):
        raise ValueError(
            "When using `delete_memoized` on a `@classmethod` you must provide the class "
            "as the first argument"
        )
    module = f.__module__
    name = getattr(f, "__qualname__", None) or f.__name__
    namespace = ".".join((module, name)).translate(_NULL_CONTROL)
    if instance_token:
        return namespace, ".".join((module, name, instance_token)).translate(_NULL_CONTROL)
    return namespace, None


def memoize_kwargs_to_args(
    f: Callable[..., Any],
    *args: Any,
    args_to_ignore: Iterable[str] | None = None,
    **kwargs: Any,
) -> tuple[tuple[Any, ...], OrderedDict[str, Any]]:
    """Normalise a call so that ``f(1, b=2)`` and ``f(a=1, b=2)`` give the same key."""
    ignore = list(args_to_ignore or ())
    new_args: list[Any] = []
    arg_num = 0
    kw_keys_remaining = [key for key in kwargs if key not in ignore]
    names = arg_names(f)
    for i, name in enumerate(names):
        default = arg_default(f, i)
        if name in ignore:
            arg = None
            arg_num += 1
        elif i == 0 and name in ("self", "cls"):
            if not args:
                kind = "classmethod" if name == "cls" else "method"
                raise ValueError(
                    f"When using `delete_memoized` on a `{kind}` you must provide the "
                    f"`{name}` argument as the first positional argument."
                )
            arg = get_id(args[0])
            arg_num += 1
        elif name in kwargs:
            arg = kwargs[name]
            kw_keys_remaining.remove(name)
        elif arg_num < len(args):
            arg = args[arg_num]
            arg_num += 1
        elif default is not None:
            arg = default
            arg_num += 1
        else:
            arg = None
            arg_num += 1
        new_args.append(canonical(arg))
    new_args.extend(canonical(arg) for arg in args[len(names) :])
    remaining = sorted((k, canonical(v)) for k, v in kwargs.items() if k in kw_keys_remaining)
    return tuple(new_args), OrderedDict(remaining)


class _SortedSet(list[Any]):
    """A set's items in sorted order, shown the way the set itself is."""

    def __init__(self, items: Iterable[Any], frozen: bool) -> None:
        super().__init__(items)
        self.frozen = frozen

    def __repr__(self) -> str:
        body = "{" + ", ".join(map(repr, self)) + "}" if self else "set()"
        if self.frozen:
            return f"frozenset({body})" if self else "frozenset()"
        return body


def _sorted(items: Iterable[Any]) -> list[Any]:
    items = list(items)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=lambda item: (type(item).__qualname__, repr(item)))


def canonical(value: Any) -> Any:
    """``value`` with dicts and sets in sorted order, recursively; other values unchanged."""
    if type(value) is dict:
        keys = _sorted(value)
        items = [(key, canonical(value[key])) for key in keys]
        if keys == list(value) and all(v is value[k] for k, v in items):
            return value
        return dict(items)
    if type(value) in (list, tuple):
        items = [canonical(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if type(value) is list else tuple(items)
    if type(value) in (set, frozenset):
        return _SortedSet(_sorted(canonical(item) for item in value), type(value) is frozenset)
    return value


def make_version_hash() -> str:
    """A fresh random version for the keys of a memoized function."""
    return base64.b64encode(uuid.uuid4().bytes)[:6].decode("utf-8")


def join_generator(rv: Any) -> Any:
    """The chunks of a generator's output joined, as Flask-Caching stores them."""
    chunks = list(rv)
    if all(isinstance(chunk, str) for chunk in chunks):
        return "".join(chunks)
    if all(isinstance(chunk, bytes) for chunk in chunks):
        return b"".join(chunks)
    return chunks
