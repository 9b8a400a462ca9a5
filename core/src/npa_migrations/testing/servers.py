"""Database servers for provider test suites: a test that needs a server it cannot reach
is skipped -- or, with ``$CI`` set, fails, because a skipped server test is not a passed
one (DEVELOPERS.md)."""

from __future__ import annotations

import os
from typing import Any, Callable

import pytest

#: why a server URL was unreachable (``None``: it answered), probed once per session
_UNREACHABLE: dict[str, str | None] = {}


def require_server(url: str, what: str, probe: Callable[[str], Any], *, env: str,
                   start: str = "'bash scripts/start-databases.sh'") -> str:
    """``url`` when ``probe(url)`` (which connects and raises when it cannot) succeeded;
    otherwise skip the calling test -- fail it under ``$CI`` -- with a message naming
    ``what`` (e.g. ``"PostgreSQL"``), the URL without its password, the error, how to
    ``start`` the server and the variable ``env`` that points the tests elsewhere."""
    if url not in _UNREACHABLE:
        try:
            probe(url)
            _UNREACHABLE[url] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
            _UNREACHABLE[url] = str(exc).strip() or type(exc).__name__
    error = _UNREACHABLE[url]
    if error:
        from ..urls import display_url, parse_url

        shown = display_url(parse_url(url))
        unavailable(f"{what} at {shown} is unreachable ({error}). Start it with {start} or "
                    f"set ${env}.")
    return url


def unavailable(message: str) -> None:
    """Skip the calling test with ``message``, or fail it when ``$CI`` is set."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} ($CI is set, so this is a failure, not a skip.)", pytrace=False)
    pytest.skip(message)
