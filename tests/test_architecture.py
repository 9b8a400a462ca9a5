"""The core's shape, checked: the layers of docs/architecture.md import only downwards,
no module imports another in a circle, no module takes another's private names, and the
code type-checks (mypy) and lints clean (ruff).

Imports are read from the source (``ast``), the way Python runs them: an import under
``if TYPE_CHECKING:`` is for annotations only and does not count; one inside a function
does (it runs when the function does).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core" / "src" / "npa_migrations"

#: each part of the core, and the parts it must never import (docs/architecture.md)
#: the parts on top, which nothing below imports
TOP = {"cli", "testing", "apptest", "frameworks", "launch"}
FORBIDDEN = {
    # answers before anything is loaded: the foundation's light modules and config only
    "uptodate": {"schema", "engine", "provider", "builtin"} | TOP,
    "schema": {"engine", "provider", "builtin", "config"} | TOP,
    "provider": {"engine", "builtin", "config"} | TOP,
    "engine": {"builtin", "config"} | TOP,
    "builtin": {"config"} | TOP,
    "config": {"engine"} | TOP,
    "cli": TOP - {"cli"},
}
#: the modules every part may use: the foundation of the package
FOUNDATION = {"errors", "sqltext", "sqla", "operations", "builder", "statements", "compiled",
              "rows", "urls", "options", "results", "migration", "hookspecs", "plugins", "entrypoints",
              "remembered", "pycode", "operation_shapes"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in CORE.rglob("*.py"):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """``(imported module, names, line)`` of every import that runs (not those under
    ``if TYPE_CHECKING:``)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for_typing = {id(inner) for node in ast.walk(tree)
                  if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                  for stmt in node.body for inner in ast.walk(stmt)}
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(tree):
        if id(node) in for_typing:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [alias.name for alias in node.names], node.lineno))
    return found


def _resolve(target: str, name: str) -> str | None:
    """The core module an import reaches (``from pkg import module`` reaches the module)."""
    for candidate in (f"{target}.{name}", target):
        while candidate and candidate not in MODULES:
            candidate = candidate.rpartition(".")[0]
        if candidate:
            return candidate
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, names, _ in _imports(module, path):
            if not target.startswith("npa_migrations"):
                continue
            for name in names or [""]:
                reached = _resolve(target, name) if name else _resolve(target, "")
                if reached and reached != module and not module.startswith(reached + "."):
                    graph[module].add(reached)
    return graph


def _part(module: str) -> str:
    """``npa_migrations.engine.live`` -> ``engine``; a top-level module is its own part."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "npa_migrations"


def test_no_module_imports_another_in_a_circle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def strongly_connected(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                strongly_connected(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            strongly_connected(node)
    assert not circles, f"modules that import each other in a circle: {circles}"


def test_layers_import_only_downwards():
    wrong = []
    for module, reached in _graph().items():
        part = _part(module)
        for target in reached:
            if _part(target) in FORBIDDEN.get(part, set()):
                wrong.append(f"{module} -> {target}")
            elif part in FOUNDATION and _part(target) not in FOUNDATION | {"npa_migrations"}:
                wrong.append(f"{module} (foundation) -> {target}")
    assert not wrong, "imports against the layers of docs/architecture.md:\n" + "\n".join(
        sorted(wrong))


def test_no_module_takes_another_modules_private_names():
    sources = {m: p for m, p in MODULES.items()}
    for package in ("providers", "plugins"):
        for path in (ROOT / package).glob("*/src/*/**/*.py"):
            sources[str(path.relative_to(ROOT))] = path
    taken = []
    for module, path in sources.items():
        for target, names, line in _imports(module, path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target.startswith("npa_migrations"):
                taken.append(f"{path.relative_to(ROOT)}:{line}: {target} {private}")
    assert not taken, "private names imported from another module:\n" + "\n".join(taken)


def test_the_layer_rules_know_every_part():
    """A new subpackage must be placed in the layers (FORBIDDEN / FOUNDATION) and in
    docs/architecture.md."""
    parts = {_part(m) for m in MODULES} - {"npa_migrations"}
    known = set(FORBIDDEN) | FOUNDATION | TOP
    assert parts <= known, f"parts missing from the layer rules: {sorted(parts - known)}"
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [p for p in sorted(parts) if f"`{p}" not in text]
    assert not missing, f"parts docs/architecture.md does not describe: {missing}"


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_the_core_type_checks():
    result = _tool("mypy", "core/src/npa_migrations")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_lints_clean():
    core = _tool("ruff", "check", "core/src")
    assert core.returncode == 0, core.stdout + core.stderr
    # providers, plugins and every test folder: unused and undefined names (pyflakes)
    sources = [str(p.relative_to(ROOT)) for pkg in ("providers", "plugins")
               for folder in ("src", "tests") for p in sorted((ROOT / pkg).glob(f"*/{folder}"))]
    others = _tool("ruff", "check", "--select", "F", "core/tests", "tests", *sources)
    assert others.returncode == 0, others.stdout + others.stderr
