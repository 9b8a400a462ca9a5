"""Checking that generated Oracle SQL is well-formed, without an Oracle server.

* Plain SQL is parsed with sqlglot's ``oracle`` dialect (``ErrorLevel.RAISE``). sqlglot
  "parses" what it does not understand as an opaque ``Command``; that is not accepted as
  a parse. For the few valid Oracle constructs sqlglot cannot parse, a strict check
  reduces the statement to parts sqlglot *can* parse (:data:`ALTERNATIVES`):

  - ``ALTER TABLE t MODIFY (c <type> DEFAULT <expr> NOT NULL)``: the table name is parsed
    as a table, the column clause as a column definition of a ``CREATE TABLE``;
  - ``CREATE [UNIQUE] INDEX s.ix ON ...``: parsed with the index name unqualified;
  - ``CREATE USER u NO AUTHENTICATION ...`` / ``DROP USER u``: a strict pattern, the names
    parsed as identifiers;
  - positional binds ``:1``: parsed as named binds ``:p1``;
  - identity options in another order than ``START WITH``, ``INCREMENT BY``;
  - ``LOCK TABLE t IN EXCLUSIVE MODE NOWAIT`` and ``ALTER SESSION SET DDL_LOCK_TIMEOUT =
    n``: strict patterns.

* PL/SQL blocks (which sqlglot cannot parse at all) are parsed by :func:`check_plsql`, a
  recursive-descent parser of the PL/SQL subset the provider generates (and the
  scenarios use), written from the PL/SQL Language Reference: anonymous blocks with
  declarations, ``EXECUTE IMMEDIATE``, ``IF``, ``RAISE``, assignments, procedure calls
  with named arguments, ``SELECT ... INTO``, DML, exception handlers, and ``CREATE
  TRIGGER`` headers. Every SQL statement inside a block -- embedded DML and the dynamic
  SQL of ``EXECUTE IMMEDIATE`` (its string literal unescaped, concatenations evaluated
  with sample values) -- goes through the SQL check above; dynamic PL/SQL (the guarded
  blocks of an idempotent script run the provider's own blocks so) through this one.
"""

from __future__ import annotations

import re
from typing import Callable

import sqlglot
from sqlglot import exp

from npa_oracle.sqltext import is_plsql, strip_comments

IDENT = r'(?:"[^"\x00]+"|[A-Za-z][A-Za-z0-9_$#]*)'
QUALIFIED = rf"{IDENT}(?:\.{IDENT})?"


class SqlCheckError(AssertionError):
    pass


def parse(sql: str) -> exp.Expression:
    """sqlglot's Oracle parse; an opaque ``Command`` fallback is an error."""
    try:
        tree = sqlglot.parse_one(sql, read="oracle", error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as exc:
        raise SqlCheckError(f"sqlglot cannot parse: {sql!r}: {exc}") from None
    if isinstance(tree, exp.Command):
        raise SqlCheckError(f"sqlglot parsed only as an opaque command: {sql!r}")
    return tree


def _identifier(name: str) -> None:
    tree = parse(f"SELECT 1 FROM {name}")
    if not isinstance(tree, exp.Select) or not tree.find(exp.Table):
        raise SqlCheckError(f"not a table name: {name!r}")


def _modify(sql: str) -> bool:
    m = re.fullmatch(rf"ALTER TABLE ({QUALIFIED}) MODIFY \((.+)\)", sql, re.DOTALL)
    if not m:
        return False
    _identifier(m.group(1))
    column = re.match(rf"({IDENT})\s+(.+)", m.group(2), re.DOTALL)
    if not column:
        raise SqlCheckError(f"MODIFY without a column clause: {sql!r}")
    props = column.group(2)
    tree = parse(f"CREATE TABLE x ({column.group(1)} {props})")
    definition = tree.find(exp.ColumnDef)
    if definition is None or not (definition.args.get("kind") or definition.args.get(
            "constraints")):
        raise SqlCheckError(f"MODIFY clause is not a column definition: {sql!r}")
    return True


def _schema_index(sql: str) -> bool:
    m = re.fullmatch(rf"(CREATE (?:UNIQUE )?INDEX )({IDENT})\.({IDENT})( ON .+)", sql, re.DOTALL)
    if not m:
        return False
    _identifier(m.group(2))
    tree = parse(m.group(1) + m.group(3) + m.group(4))
    if not isinstance(tree, exp.Create):
        raise SqlCheckError(f"not a CREATE INDEX: {sql!r}")
    return True


def _user(sql: str) -> bool:
    m = re.fullmatch(rf"CREATE USER ({IDENT}) NO AUTHENTICATION"
                     rf"(?: DEFAULT TABLESPACE ({IDENT}))?(?: QUOTA UNLIMITED ON ({IDENT}))?", sql)
    if m is None:
        m = re.fullmatch(rf"DROP USER ({IDENT})", sql)
    if m is None:
        return False
    for name in m.groups():
        if name:
            _identifier(name)
    return True


def _positional_binds(sql: str) -> bool:
    if not re.search(r":\d", sql):
        return False
    renamed = re.sub(r"(?<![\w'\"]):(\d+)\b", r":p\1", sql)
    parse(renamed)
    return True


def _identity_options(sql: str) -> bool:
    """sqlglot reads identity options only in the order START WITH, INCREMENT BY; Oracle
    takes them in any order (identity_options in the SQL Language Reference)."""
    pattern = re.compile(r"AS IDENTITY \(INCREMENT BY (-?\d+) START WITH (-?\d+)\)")
    if not pattern.search(sql):
        return False
    parse(pattern.sub(r"AS IDENTITY (START WITH \2 INCREMENT BY \1)", sql))
    return True


def _lock_table(sql: str) -> bool:
    m = re.fullmatch(rf"LOCK TABLE ({QUALIFIED}) IN EXCLUSIVE MODE NOWAIT", sql)
    if m:
        _identifier(m.group(1))
    return bool(m)


def _alter_session(sql: str) -> bool:
    return bool(re.fullmatch(r"ALTER SESSION SET DDL_LOCK_TIMEOUT = \d+", sql))


#: constructs sqlglot cannot parse, each checked another way (see the module docstring)
ALTERNATIVES: list[Callable[[str], bool]] = [_modify, _schema_index, _user, _positional_binds,
                                             _identity_options,
                                             _lock_table, _alter_session]


def check_sql(sql: str) -> str:
    """Raise :class:`SqlCheckError` unless ``sql`` (one plain statement, no terminator)
    parses; returns how it was checked."""
    sql = sql.strip()
    if sql.endswith(";"):
        raise SqlCheckError(f"a plain statement must not end with ';' for the driver: {sql!r}")
    try:
        parse(sql)
        return "sqlglot"
    except SqlCheckError as first:
        sql = strip_comments(sql).strip()
        for alternative in ALTERNATIVES:
            if alternative(sql):
                return alternative.__name__
        raise first


# PL/SQL ---------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<qstring>[nN]?[qQ]'(?P<d>.).*?(?:(?P=d)|\]|\}|\)|>)')
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"[^"]+")
  | (?P<bind>:[A-Za-z][A-Za-z0-9_]*)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z][A-Za-z0-9_$#]*)
  | (?P<op>:=|=>|\|\||<=|>=|<>|!=|<<|>>|[-+*/=<>(),.;%])
""", re.VERBOSE | re.DOTALL)

_SQL_START = ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE")


class _Tokens:
    def __init__(self, text: str):
        self.text = text
        self.items: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise SqlCheckError(f"PL/SQL: cannot read {text[pos:pos + 30]!r}")
            kind = m.lastgroup if m.lastgroup != "d" else "qstring"
            if kind != "ws":
                self.items.append((kind, m.group(0), m.start()))
            pos = m.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int]:
        j = self.i + offset
        return self.items[j] if j < len(self.items) else ("eof", "", len(self.text))

    def word(self, offset: int = 0) -> str:
        kind, value, _ = self.peek(offset)
        return value.upper() if kind == "word" else ""

    def next(self) -> tuple[str, str, int]:
        item = self.peek()
        self.i += 1
        return item

    def expect(self, value: str) -> None:
        kind, got, pos = self.next()
        if got.upper() != value:
            raise SqlCheckError(f"PL/SQL: expected {value!r} at {pos}, got {got!r} in:\n"
                                f"{self.text}")

    def accept(self, value: str) -> bool:
        if self.peek()[1].upper() == value:
            self.i += 1
            return True
        return False


def check_plsql(text: str, variables: dict[str, str] | None = None) -> list[str]:
    """Parse one PL/SQL unit (with its final ``END;``); returns every SQL statement found
    inside (embedded and dynamic), each already checked with :func:`check_sql`."""
    tokens = _Tokens(text.strip())
    found: list[str] = []
    env = dict(variables or {})
    if tokens.word() == "CREATE":
        _trigger_header(tokens)
    _block(tokens, found, env)
    if tokens.peek()[0] != "eof":
        raise SqlCheckError(f"PL/SQL: text after the block's END: {text[tokens.peek()[2]:]!r}")
    return found


def _trigger_header(t: _Tokens) -> None:
    t.expect("CREATE")
    if t.accept("OR"):
        t.expect("REPLACE")
    t.expect("TRIGGER")
    _qualified(t)
    if t.word() not in ("BEFORE", "AFTER"):
        raise SqlCheckError("PL/SQL: trigger timing expected")
    t.next()
    while t.word() in ("INSERT", "UPDATE", "DELETE", "OR"):
        t.next()
    t.expect("ON")
    _qualified(t)
    if t.accept("FOR"):
        t.expect("EACH")
        t.expect("ROW")


def _qualified(t: _Tokens) -> str:
    kind, value, pos = t.next()
    if kind not in ("word", "quoted"):
        raise SqlCheckError(f"PL/SQL: name expected at {pos}, got {value!r}")
    name = value
    while t.peek()[1] == ".":
        t.next()
        kind, value, pos = t.next()
        if kind not in ("word", "quoted"):
            raise SqlCheckError(f"PL/SQL: name expected at {pos}")
        name += "." + value
    return name


def _block(t: _Tokens, found: list[str], env: dict[str, str]) -> None:
    if t.accept("DECLARE"):
        while t.word() != "BEGIN":
            name = _qualified(t)
            _type(t)
            env.setdefault(name.upper(), "X")
            t.expect(";")
    t.expect("BEGIN")
    _statements(t, found, env, ("EXCEPTION", "END"))
    if t.accept("EXCEPTION"):
        if t.word() != "WHEN":
            raise SqlCheckError("PL/SQL: WHEN expected after EXCEPTION")
        while t.accept("WHEN"):
            _qualified(t)
            while t.accept("OR"):
                _qualified(t)
            t.expect("THEN")
            _statements(t, found, env, ("WHEN", "END"))
    t.expect("END")
    if t.peek()[0] in ("word", "quoted") and t.peek()[1] != ";":
        t.next()
    t.expect(";")


def _type(t: _Tokens) -> None:
    kind, value, pos = t.next()
    if kind != "word":
        raise SqlCheckError(f"PL/SQL: type expected at {pos}")
    if t.accept("("):
        kind, value, pos = t.next()
        if kind != "number":
            raise SqlCheckError(f"PL/SQL: length expected at {pos}")
        if t.word() in ("CHAR", "BYTE"):
            t.next()
        t.expect(")")


def _statements(t: _Tokens, found: list[str], env: dict[str, str], stops: tuple) -> None:
    count = 0
    while t.word() not in stops:
        if t.peek()[0] == "eof":
            raise SqlCheckError("PL/SQL: unexpected end of text (missing END?)")
        _statement(t, found, env)
        count += 1
    if count == 0:
        raise SqlCheckError("PL/SQL: a statement list may not be empty")


def _statement(t: _Tokens, found: list[str], env: dict[str, str]) -> None:
    word = t.word()
    if word == "NULL":
        t.next()
        t.expect(";")
    elif word == "RAISE":
        t.next()
        if t.peek()[0] == "word":
            t.next()
        t.expect(";")
    elif word == "EXECUTE":
        t.next()
        t.expect("IMMEDIATE")
        value = _expression(t, env)
        if value is None:
            raise SqlCheckError("PL/SQL: EXECUTE IMMEDIATE of a value this check cannot "
                                "evaluate")
        if is_plsql(value):  # dynamic PL/SQL: a block of its own, ending in END;
            if not value.rstrip().endswith(";"):
                raise SqlCheckError(f"dynamic PL/SQL must end with 'END;': {value!r}")
            check_plsql(value)
        else:
            check_sql(value)
        found.append(value)
        t.expect(";")
    elif word == "IF":
        t.next()
        _condition(t, env)
        t.expect("THEN")
        _statements(t, found, env, ("ELSIF", "ELSE", "END"))
        while t.accept("ELSIF"):
            _condition(t, env)
            t.expect("THEN")
            _statements(t, found, env, ("ELSIF", "ELSE", "END"))
        if t.accept("ELSE"):
            _statements(t, found, env, ("END",))
        t.expect("END")
        t.expect("IF")
        t.expect(";")
    elif word in ("BEGIN", "DECLARE"):
        _block(t, found, env)
    elif word in _SQL_START:
        start = t.peek()[2]
        depth = 0
        while True:
            kind, value, pos = t.next()
            if kind == "eof":
                raise SqlCheckError("PL/SQL: SQL statement without ';'")
            depth += value == "("
            depth -= value == ")"
            if value == ";" and depth == 0:
                sql = t.text[start:pos].strip()
                break
        if word == "SELECT":
            m = re.match(r"(SELECT\s.+?)\s+INTO\s+[\w$#\"]+(?:\s*,\s*[\w$#\"]+)*\s+(FROM\s.+)",
                         sql, re.IGNORECASE | re.DOTALL)
            if not m:
                raise SqlCheckError(f"PL/SQL: SELECT without INTO: {sql!r}")
            sql = f"{m.group(1)} {m.group(2)}"
        check_sql(sql)
        found.append(sql)
    else:  # assignment or procedure call
        kind, value, pos = t.peek()
        if kind == "bind":
            t.next()
            while t.accept("."):
                t.next()
            target = value
        else:
            target = _qualified(t)
        if t.accept(":="):
            result = _expression(t, env)
            if kind == "word":
                env[target.upper()] = result if result is not None else "X"
        elif t.accept("("):
            _arguments(t, env)
        elif kind == "bind":
            raise SqlCheckError(f"PL/SQL: ':=' expected after {value} at {pos}")
        t.expect(";")


def _arguments(t: _Tokens, env: dict[str, str]) -> None:
    if t.accept(")"):
        return
    while True:
        if t.peek(1)[1] == "=>":
            _qualified(t)
            t.expect("=>")
        _expression(t, env)
        if t.accept(")"):
            return
        t.expect(",")


def _condition(t: _Tokens, env: dict[str, str]) -> None:
    while True:
        t.accept("NOT")
        _expression(t, env)
        kind, value, pos = t.next()
        if value.upper() == "IS":
            t.accept("NOT")
            t.expect("NULL")
        elif value not in ("=", "!=", "<>", "<", ">", "<=", ">="):
            raise SqlCheckError(f"PL/SQL: comparison expected at {pos}, got {value!r}")
        else:
            _expression(t, env)
        if not (t.accept("AND") or t.accept("OR")):
            return


def _expression(t: _Tokens, env: dict[str, str]) -> str | None:
    """Parse an expression; its text value when it is made of strings and known
    variables joined with ``||`` (to check dynamic SQL), else ``None``."""
    value = _operand(t, env)
    while t.peek()[1] in ("||", "+", "-", "*", "/"):
        op = t.next()[1]
        right = _operand(t, env)
        value = value + right if op == "||" and value is not None and right is not None \
            else None
    return value


def _operand(t: _Tokens, env: dict[str, str]) -> str | None:
    kind, value, pos = t.next()
    if value == "-":
        return _operand(t, env) and None
    if kind == "string":
        return value[1:-1].replace("''", "'")
    if kind == "qstring":
        return None
    if kind == "number":
        return None
    if kind == "bind":
        while t.accept("."):
            t.next()
        return None
    if value == "(":
        inner = _expression(t, env)
        t.expect(")")
        return inner
    if kind in ("word", "quoted"):
        t.i -= 1
        name = _qualified(t)
        if t.accept("("):
            _arguments(t, env)
            return None
        return env.get(name.upper())
    raise SqlCheckError(f"PL/SQL: operand expected at {pos}, got {value!r}")
