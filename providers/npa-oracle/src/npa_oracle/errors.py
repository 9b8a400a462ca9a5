"""Oracle's error numbers and how to read them out of python-oracledb's exceptions: the
provider and its lock both act on them."""

from __future__ import annotations

ORA_RESOURCE_BUSY = 54            # resource busy and acquire with NOWAIT / timeout expired
ORA_INVALID_CREDENTIALS = 1017    # invalid username/password; logon denied
ORA_ALREADY_NOT_NULL = 1442       # column to be modified to NOT NULL is already NOT NULL
ORA_ALREADY_NULL = 1451           # column to be modified to NULL cannot be modified to NULL
ORA_LIBRARY_CACHE_TIMEOUT = 4021  # timeout occurred while waiting to lock object
ORA_PLSQL_COMPILATION = 6550      # PL/SQL compilation error (e.g. PLS-00201)
ORA_ACCOUNT_LOCKED = 28000        # the account is locked
ORA_SERVICE_UNKNOWN = 12514       # listener does not currently know of service
ORA_SID_UNKNOWN = 12505           # listener does not currently know of SID


def ora_code(exc: BaseException | None) -> int | None:
    """The ORA- error number of a python-oracledb error (or an exception wrapping one)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        args = getattr(exc, "args", ())
        error = args[0] if args else None
        code = getattr(error, "code", None)
        if isinstance(code, int) and code:
            return code
        exc = getattr(exc, "original", None) or getattr(exc, "orig", None) or exc.__cause__
    return None


def error_text(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    error = args[0] if args else None
    return str(getattr(error, "message", None) or exc)
