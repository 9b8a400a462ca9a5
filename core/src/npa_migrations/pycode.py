"""What a Python function *does*, as text a checksum can be taken of.

A Python step (``b.run_python(fn)``) is part of its migration's checksum, and SPEC §4
says editing a comment or the formatting of a migration must not change a checksum while
changing what it does must. The function's source text would change with both, so the
checksum takes its syntax tree instead: :func:`code_fingerprint` walks the tree of the
function's source and writes down node types and values only -- no line numbers, no
comments, no blank lines, no docstring. Fields that are empty (``None``, ``[]``) are left
out, so a Python release that adds such a field to a node (3.12's ``type_params``) does
not change the fingerprint.

What it cannot see: code the function calls elsewhere (a helper in another module), and
functions whose source Python cannot find (built in, made with ``exec``); for those only
the qualified name counts (:func:`function_name`). The module is never part of it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap
from typing import Any, Callable


def function_name(fn: Callable[..., Any]) -> str:
    """The qualified name of a function (of the function a ``functools.partial`` wraps, of
    the class of a callable object), without its module: the module a migration file is
    imported as depends on how it is found (a folder or a dotted package), and a checksum
    must not."""
    target = _target(fn)
    return getattr(target, "__qualname__", None) or type(target).__qualname__


def code_fingerprint(fn: Callable[..., Any]) -> str | None:
    """SHA-256 of the syntax tree of ``fn``'s source (see the module docs), with the
    arguments a ``functools.partial`` binds; ``None`` when the source cannot be found."""
    target = _target(fn)
    try:
        source = textwrap.dedent(inspect.getsource(target))
    except (OSError, TypeError):
        return None
    tree = _parse(source)
    text = _dump(_function_node(tree, target) or tree) if tree is not None \
        else " ".join(source.split())
    if isinstance(fn, functools.partial):
        text += repr((fn.args, sorted(fn.keywords.items())))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _target(fn: Callable[..., Any]) -> Any:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.ismethod(fn):
        fn = fn.__func__
    if not (inspect.isfunction(fn) or inspect.isclass(fn)) and callable(fn):
        return type(fn)
    return fn


def _parse(source: str) -> ast.AST | None:
    """The tree of ``source``; a lambda's source is the line(s) holding it, which parse
    on their own only when the lambda is not part of a larger expression."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _function_node(tree: ast.AST, target: Any) -> ast.AST | None:
    """The definition (or, for a lambda, the lambda) of ``target`` within ``tree``."""
    name = getattr(target, "__name__", None)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name == name:
            return node
    lambdas = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda)]
    return lambdas[0] if name == "<lambda>" and len(lambdas) == 1 else None


#: the nodes whose first string statement is a docstring
_DOCUMENTED = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _dump(node: Any) -> str:
    """Node types and field values, recursively, without positions, empty fields or
    docstrings."""
    if isinstance(node, ast.AST):
        parts = []
        for field in node._fields:
            value = getattr(node, field, None)
            if field == "body" and isinstance(node, _DOCUMENTED) and isinstance(value, list) \
                    and _docstring(value):
                value = value[1:]
            if value is None or value == []:
                continue
            parts.append(f"{field}={_dump(value)}")
        return f"{type(node).__name__}({', '.join(parts)})"
    if isinstance(node, list):
        return "[" + ", ".join(_dump(item) for item in node) + "]"
    return repr(node)


def _docstring(body: list) -> bool:
    first = body[0] if body else None
    return (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str))
