"""Running SQL scripts the way a DBA does: with the database's own command-line client
(``sqlite3 -bail``, ``psql -v ON_ERROR_STOP=1``, ``mariadb``/``mysql``), stopping at the
first error. A test that needs a client which is not installed is skipped, saying which.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa


def _client(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"needs the command-line client {' or '.join(names)}")


def client_command(url: sa.engine.URL) -> list[str]:
    """The command that runs a script (on stdin) against the database of ``url``."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return [_client("sqlite3"), "-bail", str(url.database)]
    if backend == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return [_client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
    command = [_client("mariadb", "mysql"), "--batch", "-h", url.host or "127.0.0.1",
               "-P", str(url.port or 3306), "-u", url.username or "root"]
    if url.password:
        command.append(f"--password={url.password}")
    return command + [str(url.database)]


def run_script(url: sa.engine.URL, script: str, *, check: bool = True
               ) -> subprocess.CompletedProcess:
    """Run ``script`` with the client of ``url``'s database; with ``check``, a failure
    fails the test with the client's output."""
    result = subprocess.run(client_command(url), input=script, capture_output=True,
                            text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result
