"""What ``npa migrate --help`` imports: it loads the plugins (to list their commands),
but reading migrations -- the SQL lexer, the file parser, hashing -- waits for the first
discovery, and the entry points come from the answer remembered for this installation, not
from ``importlib.metadata`` (issue 16: ``--help`` within 70 ms of a bare interpreter)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from npa_migrations.cli import cli
try:
    cli(["migrate", "--help"], prog_name="npa")
except SystemExit:
    pass
for name in ("npa_migrations.builtin.discovery", "npa_migrations.builtin.sources",
             "npa_migrations.builtin.sqlfile", "npa_migrations.sqltext", "hashlib",
             "importlib.metadata"):
    print(name, name in sys.modules)
"""


def test_migrate_help_loads_plugins_but_not_the_migration_readers():
    for _ in range(2):  # the first run may have to read and remember the entry points
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                             check=True).stdout
    loaded = dict(line.split() for line in out.splitlines()
                  if line.startswith(("npa_", "hash", "importlib")))
    assert "Commands:" in out
    assert loaded == {"npa_migrations.builtin.discovery": "True",
                      "npa_migrations.builtin.sources": "False",
                      "npa_migrations.builtin.sqlfile": "False",
                      "npa_migrations.sqltext": "False", "hashlib": "False",
                      "importlib.metadata": "False"}
