"""docs/api-reference.md is generated from the docstrings by scripts/gen_api_docs.py; it
must match the code, and everything it documents must have a docstring."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("gen_api_docs",
                                                  ROOT / "scripts" / "gen_api_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_documented_object_has_a_docstring(generator):
    assert generator.missing_docstrings() == []


def test_api_reference_is_current(generator):
    current = (ROOT / "docs" / "api-reference.md").read_text(encoding="utf-8")
    assert current == generator.render(), (
        "docs/api-reference.md is stale: run 'uv run --no-sync python scripts/gen_api_docs.py'")


def test_reference_covers_the_spec_api(generator):
    text = generator.render()
    for name in ("MigrationExecutor", "MigrationExecutorOptions", "TransactionMode",
                 "MigrationResult", "MigrationError", "MigrationException", "ProgressStep",
                 "MigrationStatus", "ValidationProblem", "DriftReport", "Migration",
                 "MigrationBuilder", "NpaError", "ValidationError", "LockTimeoutError",
                 "ConfigurationError"):
        assert f"### `{name}`" in text, name
    for method in ("execute", "rollback", "rollback_to", "status", "validate"):
        assert f"`MigrationExecutor.{method}(" in text
        assert f"`async MigrationExecutor.{method}_async(" in text
    for call in ("create_table", "add_column", "alter_column", "bulk_insert", "execute"):
        assert f"`MigrationBuilder.{call}(" in text


def test_every_hook_has_a_heading(generator):
    from npa_migrations.plugins import get_plugin_manager

    text = generator.render()
    hooks = [name for name in dir(get_plugin_manager().hook) if name.startswith("npa_")]
    assert hooks
    for name in hooks:
        assert f"### `{name}`" in text, name
