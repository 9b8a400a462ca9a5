"""Checking generated T-SQL without a server: sqlglot (dialect ``tsql``) plus strict
grammars for the few constructs sqlglot cannot parse, and a small interpreter that runs
the provider's dynamic-SQL batches against a simulated catalog, so the statements they
build at run time are checked too.

What sqlglot cannot parse, and how it is checked instead (see the report in
docs/providers/sqlserver.md):

* ``IF <condition> <statement>`` -- sqlglot's T-SQL parser swallows the rest of the batch
  into the ``IF`` (and mangles ``IF ... EXEC``); the condition is parsed as
  ``SELECT CASE WHEN <condition> THEN 1 END`` and the statement on its own.
* ``SET IDENTITY_INSERT <table> ON|OFF`` and ``ALTER TABLE <t> ADD CONSTRAINT <n> DEFAULT
  <expr> FOR <c>`` -- sqlglot falls back to an unparsed ``Command``; they must match a
  strict grammar whose table, names and expression are each parsed by sqlglot.
* ``IF <condition> BEGIN ... END`` of an idempotent script's guarded migration: the
  condition as above, each statement of the block on its own, and the dynamic SQL of
  each ``EXEC(N'...')`` (the literal unescaped) as a batch of its own.
"""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from sqlglot import exp

from npa_sqlserver.tsql import mask

IDENT = r"(?:\[(?:[^\]]|\]\])+\]|[A-Za-z_@#][\w@$#]*)"
TABLE = rf"{IDENT}(?:\.{IDENT}){{0,2}}"
_IDENTITY_INSERT = re.compile(rf"^SET IDENTITY_INSERT (?P<table>{TABLE}) (?:ON|OFF)$", re.S)
_ADD_DEFAULT = re.compile(
    rf"^ALTER TABLE (?P<table>{TABLE}) ADD CONSTRAINT (?P<name>{IDENT}) DEFAULT (?P<expr>.+) "
    rf"FOR (?P<column>{IDENT})$", re.S)
_IF_BODY = re.compile(r"\b(EXEC|EXECUTE|SET|ROLLBACK|INSERT|UPDATE|DELETE|THROW|RETURN|CREATE)\b",
                      re.IGNORECASE)


#: ``IF <condition> BEGIN <statements> END`` (matched on the masked text)
_GUARDED = re.compile(r"^IF (?P<condition>.+?)\nBEGIN\n(?P<body>.*)\nEND$", re.S)
#: ``EXEC(N'<dynamic SQL>')``
_EXEC_LITERAL = re.compile(r"^EXEC\((?P<literal>N'.*')\)$", re.S)


def unescape(literal: str) -> str:
    """The text of an ``N'...'`` literal as :func:`npa_sqlserver.tsql.nstring` writes one
    (doubled quotes, and pieces joined with ``' + N'``)."""
    out, i = [], 0
    while True:
        if not literal.startswith("N'", i):
            raise TsqlError(f"not an N'...' literal: {literal}")
        i += 2
        while True:
            j = literal.index("'", i)
            out.append(literal[i:j])
            if literal.startswith("''", j):
                out.append("'")
                i = j + 2
                continue
            i = j + 1
            break
        if literal.startswith(" + N'", i):
            i += 3
            continue
        if i != len(literal):
            raise TsqlError(f"text after the literal: {literal[i:]}")
        return "".join(out)


class TsqlError(AssertionError):
    """A generated statement is not valid T-SQL (as far as these checks can tell)."""


# splitting ----------------------------------------------------------------------------------
def top_level_statements(batch: str) -> list[str]:
    """The statements of a batch: split at ``;`` outside literals, comments and
    parentheses (the provider ends every statement of a batch with ``;``)."""
    masked = mask(batch)
    out, depth, start = [], 0, 0
    for i, ch in enumerate(masked):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append(batch[start:i])
            start = i + 1
    out.append(batch[start:])
    return [s.strip() for s in out if mask(s).strip()]


def script_batches(script: str) -> list[str]:
    """The batches of a ``--sql`` script (separated by ``GO`` lines)."""
    return [b.strip() for b in re.split(r"(?m)^GO$", script) if mask(b).strip()]


def split_if(statement: str) -> tuple[str, str]:
    """``IF <condition> <statement>`` -> (condition, statement)."""
    masked = mask(statement)
    depth = 0
    for i in range(3, len(masked)):
        ch = masked[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            m = _IF_BODY.match(masked, i)
            if m and (i == 0 or not (masked[i - 1].isalnum() or masked[i - 1] in "_@")):
                return statement[3:i].strip(), statement[i:].strip()
    raise TsqlError(f"cannot find the statement of: {statement}")


# checking -----------------------------------------------------------------------------------
def parse(sql: str) -> exp.Expression:
    """sqlglot's tree of one statement; an error or an unparsed ``Command`` fails."""
    try:
        trees = sqlglot.parse(sql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as error:
        raise TsqlError(f"sqlglot cannot parse:\n{sql}\n{error}") from error
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise TsqlError(f"expected one statement, sqlglot found {len(trees)}:\n{sql}")
    if isinstance(trees[0], exp.Command):
        raise TsqlError(f"sqlglot parsed this only as an opaque command:\n{sql}")
    return trees[0]


def check_statement(sql: str) -> str:
    """Check one top-level statement; returns how it was checked."""
    masked = mask(sql)
    sql = sql[len(masked) - len(masked.lstrip()):].strip()  # leading comments
    if re.match(r"IF\b", sql, re.IGNORECASE):
        condition, body = split_if(sql)
        parse(f"SELECT CASE WHEN {condition} THEN 1 END")
        return "if: " + check_statement(body)
    m = _IDENTITY_INSERT.match(sql)
    if m:
        parse(f"SELECT * FROM {m['table']}")
        return "grammar: SET IDENTITY_INSERT"
    m = _ADD_DEFAULT.match(sql)
    if m:
        parse(f"SELECT * FROM {m['table']}")
        parse(f"SELECT {m['column']} AS {m['name']}")
        parse(f"SELECT {m['expr']}")
        return "grammar: ADD CONSTRAINT ... DEFAULT ... FOR"
    parse(sql)
    return "sqlglot"


def check_batch(batch: str) -> list[str]:
    """Check every statement of a batch; returns how each was checked."""
    masked = mask(batch)
    batch = batch[len(masked) - len(masked.lstrip()):].strip()  # leading comments
    guarded = _GUARDED.match(mask(batch))
    if guarded:
        return [check_guarded(batch, guarded)]
    return [check_statement(s) for s in top_level_statements(batch)]


def check_guarded(batch: str, guarded: re.Match) -> str:
    """``IF <condition> BEGIN ... END``: the condition, each statement of the block, and
    the dynamic SQL of each ``EXEC(N'...')`` as a batch of its own."""
    parse(f"SELECT CASE WHEN {batch[guarded.start('condition'):guarded.end('condition')]} "
          "THEN 1 END")
    for statement in top_level_statements(batch[guarded.start("body"):guarded.end("body")]):
        dynamic = _EXEC_LITERAL.match(statement)
        if dynamic:
            check_batch(unescape(dynamic["literal"]))
        else:
            check_statement(statement)
    return "guarded block"


# simulating dynamic SQL ---------------------------------------------------------------------
class Catalog:
    """What the catalog views answer when a batch runs.

    :param variables: values of the variables the batch reads with ``SELECT @x = ...
        FROM sys.<view>`` (e.g. ``{"default": "DF__t__c", "nullable": True}``); a
        variable not given stays NULL.
    :param indexes: rows of ``sys.indexes`` on the column (``name``, ``type``,
        ``is_unique``, ``is_unique_constraint``, ``filter_definition``, ``keys``: the
        key column list, ``include``: the included column list or ``None``).
    """

    def __init__(self, variables: dict[str, Any] | None = None,
                 indexes: list[dict[str, Any]] | None = None):
        self.variables = dict(variables or {})
        self.indexes = list(indexes or [])


def quotename(value: str | None) -> str | None:
    return None if value is None else "[" + value.replace("]", "]]") + "]"


class Interpreter:
    """Runs a provider batch statement by statement on a :class:`Catalog`, collecting the
    SQL it hands to ``sp_executesql``."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.env: dict[str, Any] = {}
        self.tables: dict[str, list[dict]] = {}
        self.executed: list[str] = []

    def run(self, batch: str) -> list[str]:
        for statement in top_level_statements(batch):
            self.statement(statement)
        return self.executed

    def statement(self, sql: str) -> None:
        if re.match(r"IF\b", sql, re.IGNORECASE):
            condition, body = split_if(sql)
            tree = parse(f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END")
            if self.value(tree.expressions[0]) == 1:
                self.statement(body)
            return
        tree = parse(sql)
        if isinstance(tree, exp.Declare):
            for item in tree.expressions:
                name = item.this[0].name if isinstance(item.this, list) else item.this.name
                if isinstance(item.args.get("kind"), exp.Schema):
                    self.tables[name] = []
                else:
                    default = item.args.get("default")
                    self.env[name] = (self.value(default)
                                      if isinstance(default, exp.Expression) else None)
        elif isinstance(tree, exp.Set):
            for item in tree.expressions:
                assignment = item.this
                self.env[assignment.this.name] = self.value(assignment.expression)
        elif isinstance(tree, exp.Select):
            self.select(tree)
        elif isinstance(tree, exp.Insert):
            self.insert(tree)
        elif isinstance(tree, exp.ExecuteSql) or (
                isinstance(tree, exp.Execute) and "sp_executesql" in tree.sql("tsql")):
            sql_text = self.env.get("sql")
            if sql_text is None:
                raise TsqlError("EXEC sp_executesql with @sql NULL")
            self.executed.append(sql_text)
        else:
            raise TsqlError(f"the interpreter does not know: {sql}")

    def select(self, tree: exp.Select) -> None:
        source = tree.args.get("from_") or tree.args.get("from")
        source_table = source.this if source is not None else None
        if isinstance(source_table, exp.Table) and isinstance(source_table.this, exp.Parameter):
            rows = self.tables[source_table.this.name]
            for assignment in tree.expressions:
                self.env[assignment.this.name] = self.aggregate(assignment.expression, rows)
            return
        for assignment in tree.expressions:  # SELECT @x = <catalog column> FROM sys.<view>
            name = assignment.this.name
            self.env[name] = self.catalog.variables.get(name)

    def aggregate(self, node: exp.Expression, rows: list[dict]) -> Any:
        if not isinstance(node, exp.GroupConcat):
            raise TsqlError(f"unknown aggregate {node.sql('tsql')}")
        inner, order = node.this, []
        if isinstance(inner, exp.Order):
            order = inner.expressions
            inner = inner.this
        for ordered in reversed(order):
            rows = sorted(rows, key=lambda r, o=ordered: self.value(o.this, r),
                          reverse=bool(ordered.args.get("desc")))
        if not rows:
            return None
        return self.value(node.args["separator"]).join(self.value(inner, r) for r in rows)

    def insert(self, tree: exp.Insert) -> None:
        schema = tree.this
        name = schema.this.this.name
        columns = [c.name for c in schema.expressions]
        select = tree.expression
        for row in self.catalog.indexes:
            scope = {f"i.{k}": v for k, v in row.items()}
            if not self.where(select.args.get("where"), scope):
                continue
            values = [self.value(e, scope) for e in select.expressions]
            self.tables[name].append(dict(zip(columns, values)))

    def where(self, where: exp.Where | None, row: dict) -> bool:
        """Conditions on variables only (``@rebuild = 1``); the rest is what the
        simulated catalog rows already satisfy."""
        if where is None:
            return True
        conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
        for conjunct in conjuncts:
            if not list(conjunct.find_all(exp.Column)) and not conjunct.find(exp.Exists):
                if not self.value(conjunct, row):
                    return False
        return True

    def value(self, node: exp.Expression, row: dict | None = None) -> Any:
        row = row or {}
        if isinstance(node, (exp.National, exp.Literal)):
            return node.this if node.is_string or isinstance(node, exp.National) else (
                int(node.this) if node.this.isdigit() else float(node.this))
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Parameter):
            return self.env.get(node.name)
        if isinstance(node, exp.Column):
            key = f"{node.table}.{node.name}" if node.table else node.name
            return row.get(key, row.get(node.name))
        if isinstance(node, (exp.Paren, exp.Cast)):
            return self.value(node.this, row)
        if isinstance(node, exp.Add):
            left, right = self.value(node.this, row), self.value(node.expression, row)
            if left is None or right is None:
                return None
            return left + right
        if isinstance(node, exp.Coalesce):
            for part in [node.this, *node.expressions]:
                result = self.value(part, row)
                if result is not None:
                    return result
            return None
        if isinstance(node, exp.Anonymous) and node.name.upper() == "QUOTENAME":
            return quotename(self.value(node.expressions[0], row))
        if isinstance(node, exp.Anonymous) and node.name.upper() == "OBJECT_ID":
            return 1
        if isinstance(node, exp.ObjectId):
            return 1
        if isinstance(node, exp.Case):
            for branch in node.args.get("ifs") or []:
                if self.value(branch.this, row):
                    return self.value(branch.args["true"], row)
            default = node.args.get("default")
            return None if default is None else self.value(default, row)
        if isinstance(node, exp.Not):
            inner = self.value(node.this, row)
            return None if inner is None else not inner
        if isinstance(node, exp.Is):
            return self.value(node.this, row) is None
        if isinstance(node, exp.And):
            return bool(self.value(node.this, row)) and bool(self.value(node.expression, row))
        if isinstance(node, exp.Or):
            return bool(self.value(node.this, row)) or bool(self.value(node.expression, row))
        if isinstance(node, exp.Between):
            value = self.value(node.this, row)
            low, high = self.value(node.args["low"], row), self.value(node.args["high"], row)
            return value is not None and low <= value <= high
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
            left, right = self.value(node.this, row), self.value(node.expression, row)
            if left is None or right is None:
                return None
            if isinstance(left, bool) or isinstance(right, bool):
                left, right = int(left), int(right)
            return {exp.EQ: left == right, exp.NEQ: left != right, exp.GT: left > right,
                    exp.GTE: left >= right, exp.LT: left < right,
                    exp.LTE: left <= right}[type(node)]
        if isinstance(node, exp.Boolean):
            return node.this
        if isinstance(node, exp.Subquery):
            text = node.sql("tsql")
            if "key_ordinal > 0" in text:
                return row.get("i.keys")
            if "is_included_column = 1" in text:
                return row.get("i.include")
        raise TsqlError(f"the interpreter cannot evaluate {type(node).__name__}: "
                        f"{node.sql('tsql')}")


def simulate(batch: str, catalog: Catalog) -> list[str]:
    """The SQL a batch hands to ``sp_executesql`` on ``catalog``, in order."""
    return Interpreter(catalog).run(batch)
