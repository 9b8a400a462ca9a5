"""Generate docs/api-reference.md from the docstrings of the public Python API.

    uv run --no-sync python scripts/gen_api_docs.py          # rewrite the file
    uv run --no-sync python scripts/gen_api_docs.py --check  # exit 1 when it is stale

tests/test_api_reference_current.py runs the check, so the reference cannot drift from
the code: change a public signature or docstring, then run this script.

What is documented is listed in SECTIONS below (the SPEC §6 API plus what it returns and
raises, the builder and operations, the provider/plugin surface and every hook). Each
class gets its signature and docstring, then every public method and property defined
on it, in source order, with theirs. Sphinx roles and reST markup are turned into
Markdown; ``:param x:`` / ``:ivar x:`` / ``:returns:`` fields become bullet lists.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "api-reference.md"

#: (heading, introduction, [(module, name), ...]); "*" expands to every public class of
#: a module that subclasses the first entry's class
SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Running migrations",
     "`from npa_migrations import MigrationExecutor, MigrationExecutorOptions, "
     "TransactionMode, OutOfOrder`. See the [execution guide](execution.md).",
     [("npa_migrations.engine.executor", "MigrationExecutor"),
      ("npa_migrations.options", "MigrationExecutorOptions"),
      ("npa_migrations.options", "TransactionMode"),
      ("npa_migrations.options", "OutOfOrder")]),
    ("Fleets",
     "`from npa_migrations import FleetExecutor, Tenant`: one history over many databases "
     "or schemas. See [fleets](fleet.md).",
     [("npa_migrations.engine.fleet", "FleetExecutor"),
      ("npa_migrations.engine.fleet", "FleetResult"),
      ("npa_migrations.engine.fleet", "TargetOutcome"),
      ("npa_migrations.engine.fleet", "TargetStatus"),
      ("npa_migrations.engine.tenants", "Tenant"),
      ("npa_migrations.engine.tenants", "read_tenants_file"),
      ("npa_migrations.engine.tenants", "schema_tenants"),
      ("npa_migrations.engine.tenants", "select_shard"),
      ("npa_migrations.engine.tenants", "shard_of")]),
    ("Results and reports",
     "What the executor's methods return.",
     [("npa_migrations.results", "MigrationResult"),
      ("npa_migrations.results", "MigrationError"),
      ("npa_migrations.results", "ProgressStep"),
      ("npa_migrations.results", "MigrationStatus"),
      ("npa_migrations.results", "AppliedMigration"),
      ("npa_migrations.engine.ordering", "ValidationProblem"),
      ("npa_migrations.schema.drift", "DriftReport"),
      ("npa_migrations.schema.compare", "Difference"),
      ("npa_migrations.engine.baseline", "BaselineReport"),
      ("npa_migrations.engine.eventlog", "LogEntry"),
      ("npa_migrations.engine.repair", "repair"),
      ("npa_migrations.engine.repair", "RepairReport")]),
    ("Autogenerate",
     "`npa migrate new --autogenerate` and `npa migrate check` from Python. See "
     "[autogenerate and check](autogenerate.md).",
     [("npa_migrations.schema.autogen", "autogenerate"),
      ("npa_migrations.schema.autogen", "AutogenResult"),
      ("npa_migrations.schema.changes", "Change"),
      ("npa_migrations.schema.changes", "Phase"),
      ("npa_migrations.schema.autogen", "migrations_schema"),
      ("npa_migrations.schema.codegen", "render_migration")]),
    ("Errors",
     "Every expected failure is an `NpaError`; `exit_code` is the `npa` CLI's exit code "
     "for it. Problems found before anything runs are raised; a migration that fails "
     "while it runs is reported in `MigrationResult.errors` (its `exception` is the "
     "`MigrationException`). See [errors and recovery](errors-and-recovery.md).",
     [("npa_migrations.errors", "NpaError"), ("npa_migrations.errors", "*"),
      ("npa_migrations.engine.baseline", "*")]),
    ("Writing migrations",
     "`from npa_migrations import Migration`. See [writing migrations](migrations.md).",
     [("npa_migrations.migration", "Migration"),
      ("npa_migrations.builder", "MigrationBuilder"),
      ("npa_migrations.migration", "MigrationScript")]),
    ("Operations",
     "What each `MigrationBuilder` call records (`npa_migrations.operations`). A plugin "
     "that overrides SQL generation receives these objects.",
     [("npa_migrations.operations", "MigrationOperation"),
      ("npa_migrations.operations", "*")]),
    ("Providers and plugins",
     "The surface a provider or plugin works with. See [writing a plugin]"
     "(writing-a-plugin.md) and [writing a provider](writing-a-provider.md).",
     [("npa_migrations.provider", "Capabilities"),
      ("npa_migrations.provider", "BaseProvider"),
      ("npa_migrations.provider.comparison", "SchemaRules"),
      ("npa_migrations.statements", "Statement"),
      ("npa_migrations.statements", "Step"),
      ("npa_migrations.provider.locking", "MigrationLock")]),
]

HOOKS_MODULE = "npa_migrations.hookspecs"

ROLE = re.compile(r":(class|func|meth|mod|attr|exc|data):`(~?)([^`]+)`")


def markdown(text: str) -> str:
    """reST docstring text -> Markdown."""
    def role(match: re.Match) -> str:
        target = match.group(3)
        return f"`{target if match.group(1) == 'mod' else target.split('.')[-1]}`"

    text = ROLE.sub(role, text)
    text = text.replace("``", "`")
    out: list[str] = []
    in_code = False
    for line in text.splitlines():
        field = re.match(r"^:(param|ivar|returns|raises)\s*([^:]*):\s*(.*)$", line)
        if line.rstrip().endswith("::") and not field:
            out.append(line.rstrip()[:-1] if not line.rstrip().endswith(" ::")
                       else line.rstrip()[:-3])
            out.append("")
            in_code = True
            continue
        if in_code:
            if line.strip() and not line.startswith("    "):
                in_code = False
            else:
                out.append(line)
                continue
        if field:
            kind, name, rest = field.groups()
            name = name.strip()
            label = {"returns": "returns", "raises": "raises"}.get(kind) or f"`{name}`"
            if kind == "raises" and name:
                label = f"raises `{name}`"
            out.append(f"- {label}: {rest}".rstrip())
        elif out and out[-1].startswith("- ") and line.startswith("    ") and line.strip():
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _annotation(value) -> str:
    if value is inspect.Parameter.empty:
        return ""
    if isinstance(value, str):  # postponed annotations are kept as written
        return value.strip("'\"")
    return inspect.formatannotation(value)


def _default(value) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, str) or value is None or isinstance(value, (int, float, bool)):
        return repr(value)
    text = repr(value)
    return "<factory>" if text == "<factory>" else text


def signature(obj, skip_self: bool = False) -> str:
    """``(a: int = 1, *, b=None) -> str``, one parameter per line when it is long."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    parts = []
    star_done = False
    params = list(sig.parameters.values())
    if skip_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    for param in params:
        if param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if param.kind is param.VAR_POSITIONAL:
            star_done = True
            text = f"*{param.name}"
        elif param.kind is param.VAR_KEYWORD:
            text = f"**{param.name}"
        else:
            text = param.name
        annotation = _annotation(param.annotation)
        if annotation:
            text += f": {annotation}"
        if param.default is not inspect.Parameter.empty:
            default = _default(param.default)
            text += f" = {default}" if annotation else f"={default}"
        parts.append(text)
    returns = _annotation(sig.return_annotation)
    tail = f" -> {returns}" if returns and returns != "None" else ""
    one_line = f"({', '.join(parts)}){tail}"
    if len(one_line) <= 80:
        return one_line
    return "(\n" + "".join(f"    {p},\n" for p in parts) + f"){tail}"


def own_members(cls) -> list[tuple[str, object]]:
    """Public methods and properties defined on ``cls`` itself, in source order, except
    overrides without a docstring of their own (the base class documents them)."""
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if not (inspect.isfunction(value) or isinstance(value, property)):
            continue
        fn = value.fget if isinstance(value, property) else value
        inherited = any(name in vars(base) for base in cls.__mro__[1:])
        if inherited and not (fn.__doc__ or "").strip():
            continue
        members.append((name, value))
    return members


def expand(module_name: str, name: str, first_class) -> list[object]:
    module = importlib.import_module(module_name)
    if name != "*":
        return [getattr(module, name)]
    found = [v for k, v in vars(module).items()
             if inspect.isclass(v) and v.__module__ == module_name and not k.startswith("_")
             and first_class is not None and issubclass(v, first_class) and v is not first_class]
    return sorted(found, key=lambda c: inspect.getsourcelines(c)[1])


def document_class(cls) -> list[str]:
    lines = [f"### `{cls.__name__}`", ""]
    bases = [b for b in cls.__bases__ if b not in (object,) and b.__module__ != "builtins"
             and b is not enum.Enum]
    kind = "class"
    if issubclass(cls, enum.Enum):
        kind = "enum"
    header = f"`{cls.__module__}.{cls.__name__}`"
    if bases:
        header += " — subclass of " + ", ".join(f"`{b.__name__}`" for b in bases)
    lines += [f"{kind} {header}", ""]
    if issubclass(cls, enum.Enum):
        lines += ["Values: " + ", ".join(f"`{m.name}` (`{m.value!r}`)" for m in cls), ""]
    elif issubclass(cls, BaseException):
        code = getattr(cls, "exit_code", None)
        if code is not None:
            lines += [f"Exit code: **{code}**", ""]
        init = vars(cls).get("__init__")
        if init is not None:
            lines += ["```python", f"{cls.__name__}{signature(cls)}", "```", ""]
    else:
        lines += ["```python", f"{cls.__name__}{signature(cls)}", "```", ""]
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    if doc:
        lines += [markdown(doc), ""]
    for name, member in own_members(cls):
        if isinstance(member, property):
            lines += [f"#### `{cls.__name__}.{name}` (property)", ""]
            doc = inspect.getdoc(member.fget)
        else:
            prefix = "async " if inspect.iscoroutinefunction(member) else ""
            sig = " ".join(signature(member, skip_self=True).split())
            sig = sig.replace("( ", "(").replace(", )", ")")
            lines += [f"#### `{prefix}{cls.__name__}.{name}{sig}`", ""]
            doc = inspect.getdoc(member)
        if doc:
            lines += [markdown(doc), ""]
    return lines


def document_function(fn, heading: str = "###") -> list[str]:
    lines = [f"{heading} `{fn.__name__}()`", "", f"function `{fn.__module__}.{fn.__name__}`", "",
             "```python", f"{fn.__name__}{signature(fn)}", "```", ""]
    doc = inspect.getdoc(fn)
    if doc:
        lines += [markdown(doc), ""]
    return lines


def document_hooks() -> list[str]:
    module = importlib.import_module(HOOKS_MODULE)
    project = module.PROJECT
    lines = ["## Hooks", "",
             "Specifications in `npa_migrations.hookspecs`, in source order. Implement them "
             "with `@hookimpl` (`from npa_migrations import hookimpl`) in a module "
             "registered under the `npa` entry-point group; call arguments are keywords, and "
             "an implementation may accept any subset of them. See "
             "[writing a plugin](writing-a-plugin.md).", ""]
    hooks = [v for k, v in vars(module).items() if k.startswith("npa_") and inspect.isfunction(v)]
    for hook in sorted(hooks, key=lambda f: inspect.getsourcelines(f)[1]):
        opts = getattr(hook, f"{project}_spec", {}) or {}
        flags = [k for k in ("firstresult", "historic") if opts.get(k)]
        lines += [f"### `{hook.__name__}`", "", "```python",
                  f"{hook.__name__}{signature(hook)}", "```", ""]
        if flags:
            lines += ["Marker: " + ", ".join(f"`{f}`" for f in flags), ""]
        doc = inspect.getdoc(hook)
        if doc:
            lines += [markdown(doc), ""]
    return lines


def public_objects() -> list[object]:
    """Every class and function the reference documents (for the docstring check)."""
    objects = []
    for _, _, entries in SECTIONS:
        first = None
        for module_name, name in entries:
            for obj in expand(module_name, name, first):
                if first is None and inspect.isclass(obj):
                    first = obj
                objects.append(obj)
    return objects


def missing_docstrings() -> list[str]:
    """Documented classes, methods, properties and hooks that have no docstring."""
    missing = []
    for obj in public_objects():
        if not (obj.__doc__ or "").strip():
            missing.append(f"{obj.__module__}.{obj.__qualname__}")
        if inspect.isclass(obj):
            for name, member in own_members(obj):
                fn = member.fget if isinstance(member, property) else member
                if not (fn.__doc__ or "").strip():
                    missing.append(f"{obj.__module__}.{obj.__qualname__}.{name}")
    hooks = importlib.import_module(HOOKS_MODULE)
    for name, value in vars(hooks).items():
        if name.startswith("npa_") and inspect.isfunction(value) and not value.__doc__:
            missing.append(f"{HOOKS_MODULE}.{name}")
    return missing


def render() -> str:
    lines = [
        "# API reference",
        "",
        "<!-- Generated by scripts/gen_api_docs.py from the docstrings; do not edit by hand.",
        "     Regenerate: uv run --no-sync python scripts/gen_api_docs.py -->",
        "",
        "The public Python API of `npa-migrations`, generated from the code. Everything in "
        "the first sections is importable from `npa_migrations` or from the module named "
        "under each heading.",
        "",
        "Contents:",
        "",
    ]
    for heading, _, _ in SECTIONS + [("Hooks", "", [])]:
        anchor = heading.lower().replace(" ", "-")
        lines.append(f"- [{heading}](#{anchor})")
    lines.append("")
    for heading, intro, entries in SECTIONS:
        lines += [f"## {heading}", "", intro, ""]
        first = None
        for module_name, name in entries:
            for obj in expand(module_name, name, first):
                if inspect.isclass(obj):
                    first = first or obj
                    lines += document_class(obj)
                else:
                    lines += document_function(obj)
    lines += document_hooks()
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run "
                  "'uv run --no-sync python scripts/gen_api_docs.py'", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
