"""docs/writing-a-provider.md covers every hook (with its exact arguments) and every
capability flag, so the guide cannot fall behind hookspecs.py and Capabilities."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from npa_migrations import hookspecs
from npa_migrations.provider import Capabilities

GUIDE = (Path(__file__).resolve().parents[1] / "docs" / "writing-a-provider.md").read_text()
HOOKS = sorted(name for name, value in vars(hookspecs).items()
               if name.startswith("npa_") and inspect.isfunction(value))


def test_the_hook_list_is_not_empty():
    assert {"npa_register_providers", "npa_generate_sql"} <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_arguments(name):
    arguments = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"`{name}({arguments})" in GUIDE, f"document `{name}({arguments})`"


@pytest.mark.parametrize("flag", [f.name for f in dataclasses.fields(Capabilities)])
def test_capability_flag_is_documented(flag):
    assert f"| `{flag}` |" in GUIDE
