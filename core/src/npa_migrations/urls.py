"""Database URLs as people write them: read the way they mean them, and printed without
their secrets.

SQLAlchemy's parser ends the password at the *first* ``@``, so a password holding an
unencoded ``@`` lost its tail to the host name, which every message then printed; and a
port that is not a number raised a bare ``ValueError``. :func:`parse_url` reads the
password up to the ``@`` that is followed by the host, and checks the port;
:func:`display_url` hides the password and every secret query parameter
(``?password=``, ``PWD=`` inside an ODBC connection string), whatever their characters.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote_plus

from .errors import ConfigurationError

#: ``scheme://user:rest``: a URL whose user info has a password (the user may hold "@")
_WITH_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://)(?P<user>[^:/?#\[\]]*):(?P<tail>.*)\Z",
                            re.DOTALL)
#: ``host[:port]`` (or ``[ipv6][:port]``), then ``/``, ``?`` or the end
_HOST = re.compile(r"(?:\[[^\]@/?]*\]|[^@/?:\[\]]*)(?::[^@/?]*)?(?=[/?]|\Z)")
#: query parameters whose value is a secret
_SECRET_KEY = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)
#: ``key=value`` secrets inside a text (a raw URL, an ODBC connection string)
_SECRET_PAIR = re.compile(r"(?P<key>\b\w*(?:pass|pwd|secret|token)\w*\s*=\s*)"
                          r"(?P<value>\{[^}]*\}|[^&;]*)", re.IGNORECASE)
#: how a URL must look, for the error message
_FORM = ("Use the SQLAlchemy form dialect[+driver]://user:password@host[:port]/database, "
         "e.g. sqlite:///app.db or postgresql://app@localhost/app.")


def parse_url(value: Any):
    """A SQLAlchemy URL from a string or URL; a bad URL is a configuration error that
    never echoes a password.

    A password may hold an unencoded ``@``: it runs to the last ``@`` that is followed by
    a host and ``/database`` (or ``?query``), so ``postgresql://app:p@ss/w@rd@db/app``
    has the password ``p@ss/w@rd``.
    """
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    if isinstance(value, URL):
        return value
    text = str(value)
    try:
        url = make_url(_encode_password_at(text))
    except ArgumentError:
        raise ConfigurationError(f"Invalid database URL '{mask_credentials(text)}'. {_FORM}") \
            from None
    except ValueError:  # SQLAlchemy's int() of the port
        url = None
    if url is None or not _host_and_port_valid(url):
        raise ConfigurationError(
            f"Invalid database URL '{mask_credentials(text)}': its host or port cannot be "
            "read. The port must be a number from 1 to 65535, and an IPv6 address is "
            "written in brackets, e.g. postgresql://app@[::1]:5432/app.") from None
    return url


def _host_and_port_valid(url) -> bool:
    """No ``@`` or bracket left in the host or user name (an unclosed ``[::1``), and a
    port from 1 to 65535."""
    if url.port is not None and not 1 <= url.port <= 65535:
        return False
    return not re.search(r"[@\[\]]", url.host or "") and not re.search(r"[\[\]]",
                                                                   url.username or "")


def _encode_password_at(text: str) -> str:
    """``text`` with each ``@`` of the password percent-encoded (see :func:`parse_url`);
    unchanged when the user info holds at most one ``@``, which SQLAlchemy reads right."""
    match = _WITH_PASSWORD.match(text)
    if not match or match["tail"].count("@") < 2:
        return text
    tail = match["tail"]
    valid, with_database = [], []
    for at in (i for i, ch in enumerate(tail) if ch == "@"):
        host = _HOST.match(tail, at + 1)
        if host:
            valid.append(at)
            if host.end() < len(tail):
                with_database.append(at)
    if not valid:
        return text
    at = (with_database or valid)[-1]
    return (f"{match['head']}{match['user']}:{tail[:at].replace('@', '%40')}"
            f"@{tail[at + 1:]}")


def mask_credentials(text: str) -> str:
    """``text`` with everything between the scheme and the last ``@`` replaced by
    ``***`` and secret query values hidden, for a URL that could not be parsed (its
    password may hold any character, and the ``://`` itself may be what is wrong)."""
    text = _SECRET_PAIR.sub(r"\g<key>***", text)
    head, at, host = text.rpartition("@")
    if not at:
        return text
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:?//", head)
    return f"{scheme.group(0) if scheme else ''}***@{host}"


def display_url(url) -> str:
    """``url`` safe to print: the password and secret query values (``password``,
    ``sslpassword``, an ODBC ``PWD=``...) replaced by ``***``."""
    shown = url.set(query={}).render_as_string(hide_password=True)
    pairs = []
    for key in sorted(url.query):  # in SQLAlchemy's order
        values = url.query[key]
        for value in values if isinstance(values, tuple) else (values,):
            value = "***" if _SECRET_KEY.search(key) else _SECRET_PAIR.sub(r"\g<key>***", value)
            pairs.append(f"{quote_plus(key)}={quote_plus(value, safe='*')}")
    return f"{shown}?{'&'.join(pairs)}" if pairs else shown
