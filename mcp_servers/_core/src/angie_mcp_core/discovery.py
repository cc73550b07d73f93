"""Google API clients (google-api-python-client) built once, used many times.

``service.users()`` builds the ``users`` resource anew at every call, every method of it from
the discovery document: for Gmail, about half the CPU of a read from a local server.
:func:`keep_resources` builds each nested resource once and makes its getter return that one.
"""

from __future__ import annotations

from typing import Any

__all__ = ("keep_resources",)


def keep_resources(resource: Any) -> Any:
    """``resource`` with every nested resource (``users``, ``users().messages`` …) built once.

    Requests are still made anew per call; only the resource objects, which hold no state of a
    call, are shared. Returns ``resource`` itself.
    """
    for name in resource._resourceDesc.get("resources", {}):
        child = keep_resources(getattr(resource, name)())
        setattr(resource, name, lambda child=child: child)
    return resource
