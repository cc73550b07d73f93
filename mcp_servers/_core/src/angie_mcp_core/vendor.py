"""What every server's vendor client shares: closing what it opened, and one error boundary.

A client keeps its vendor's mapping (which exception means what) in its own package as a list
of :data:`Rule`; :func:`translated` is the one mechanism that applies such a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from angie_mcp_core.errors import ServerToolError

__all__ = ("Rule", "VendorClient", "translated")

#: Exception types, and what to raise instead (None: not this rule's case, re-raise as is).
type Rule = tuple[
    type[BaseException] | tuple[type[BaseException], ...],
    Callable[[Any], ServerToolError | None],
]


@contextmanager
def translated(rules: Sequence[Rule]) -> Iterator[None]:
    """Re-raise a vendor exception as the first matching rule's error, ``from`` the original.

    Rules are tried in order, like ``except`` clauses; the kit's own errors pass through, and
    an exception no rule claims propagates unchanged. Works as a decorator too.
    """
    try:
        yield
    except ServerToolError:
        raise
    except Exception as err:
        for kinds, translate in rules:
            if isinstance(err, kinds):
                error = translate(err)
                if error is not None:
                    raise error from err
                break
        raise


class VendorClient:
    """Base of a server's client of its vendor: ``with Client(settings) as client:``.

    Subclasses open their SDK in ``__init__`` and release it in :meth:`close`.
    """

    def close(self) -> None:
        """Release the vendor connection (the default holds none)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
