"""docs/providers/README.md states each provider's capability flags: keep it true."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from npa_migrations.provider import Capabilities

PAGE = Path(__file__).resolve().parents[1] / "docs" / "providers" / "README.md"
#: the table's columns, left to right
PROVIDERS = [
    ("npa_sqlite.provider", "SqliteProvider"),
    ("npa_postgres.provider", "PostgresProvider"),
    ("npa_mysql.provider", "MysqlProvider"),
    ("npa_sqlserver.provider", "SqlServerProvider"),
    ("npa_oracle.provider", "OracleProvider"),
]


def documented_flags() -> dict[str, list[bool]]:
    """Rows whose first cell names a flag in backticks: flag -> yes/no per column."""
    rows = {}
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.search(r"\(`(\w+)`\)$", cells[0]) if cells else None
        if match and match.group(1) in {f.name for f in dataclasses.fields(Capabilities)}:
            rows[match.group(1)] = [cell.split()[0] == "yes" for cell in cells[1:]]
    return rows


def test_every_capability_flag_has_a_row():
    assert set(documented_flags()) == {f.name for f in dataclasses.fields(Capabilities)}


@pytest.mark.parametrize("column", range(len(PROVIDERS)), ids=[c for _, c in PROVIDERS])
def test_rows_match_the_providers_capabilities(column):
    import importlib

    module, name = PROVIDERS[column]
    capabilities = getattr(importlib.import_module(module), name).capabilities
    for flag, values in documented_flags().items():
        assert values[column] == getattr(capabilities, flag), (
            f"docs/providers/README.md says {name}.{flag} is {values[column]}")
