"""Values from outside the household inside a template: marked so that whatever a template makes
of them (a slice, an upper-cased copy, a joined list) is still known to come from outside, and
can be fenced as data where it is printed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

__all__ = ("Tainted", "TaintedDict", "TaintedList", "carries", "taint")

# How deep and how far `carries` looks into lists and dicts a template wrote itself; what is
# made from outside values is marked as a whole, so these only meet short literals.
_DEPTH = 4
_WIDTH = 256


class Tainted(str):
    """Text from outside; compares, hashes and prints as the plain text it is."""

    __slots__ = ()


class TaintedDict(dict[Any, Any]):
    """A mapping from outside: its keys and values are tainted too."""


class TaintedList(list[Any]):
    """A sequence from outside: its items are tainted too."""


def taint(value: Any) -> Any:
    """``value`` with every text in it marked; numbers, booleans and None stay as they are."""
    if isinstance(value, Tainted | TaintedDict | TaintedList):
        return value
    if isinstance(value, str):
        return Tainted(value)
    if isinstance(value, dict):
        return TaintedDict({taint(k): taint(v) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return TaintedList(taint(item) for item in value)
    if isinstance(value, Iterator):
        return _tainted_items(value)
    return value


def _tainted_items(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        yield taint(item)


def carries(value: Any, depth: int = _DEPTH) -> bool:
    """Whether ``value`` is, or holds, something from outside."""
    if isinstance(value, Tainted | TaintedDict | TaintedList):
        return True
    if depth <= 0 or isinstance(value, str):
        return False
    if isinstance(value, dict):
        pairs = islice(value.items(), _WIDTH)
        return any(carries(k, depth - 1) or carries(v, depth - 1) for k, v in pairs)
    if isinstance(value, list | tuple | set | frozenset):
        return any(carries(item, depth - 1) for item in islice(value, _WIDTH))
    return False
