"""SQL migration files: ``<timestamp>_<name>.sql`` (or ``R__<name>.sql``, a repeatable
migration) with ``-- npa:up`` / ``-- npa:down`` sections and an optional first line
``-- npa:no-transaction``; a squash names the migrations it replaces in
``-- npa:replaces <id> ...`` lines before ``-- npa:up``.

The markers are found with the SQL lexer of the database the file runs on
(:attr:`~npa_migrations.provider.SqlGenerator.lexicon`), not by a line search: a
marker-like line inside a ``/* */`` comment, a string or a ``$$`` body is text, so it can
never cut a section short. Everything that would make a file run differently from how it
reads is an error naming the file and line: a marker that is not on a line of its own or
comes twice, SQL before ``-- npa:up`` (it would never run). Other ``-- npa:<word>``
comments belong to plugins (``-- npa:lint-ignore`` of npa-lint).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from ..errors import MigrationSourceError, SqlSplitError
from ..migration import CHECKSUM_ALGORITHM, REPEATABLE_PREFIX, MigrationScript, id_problem
from ..operations import OperationStream
from ..sqltext import (PORTABLE, Lexicon, mask, normalised_pieces, normalised_stream,
                       outside_tokens, split_complete, split_statements)

if TYPE_CHECKING:  # pragma: no cover
    from .placeholders import Placeholders

#: ``<14-digit timestamp>_<name>`` of a migration file's stem
FILE_NAME = re.compile(r"^(?P<ts>\d{14})_(?P<rest>.+)$", re.DOTALL)
#: a name written in snake_case (or CamelCase): its id is CamelCase
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")
#: a ``-- npa:`` comment, wherever it is (the lexer decides whether it is one)
_MARKER = re.compile(r"--[ \t]*npa[ \t]*:[ \t]*(?P<name>[^\r\n]*?)[ \t]*\r?$",
                     re.IGNORECASE | re.MULTILINE)
#: a ``-- npa:replaces`` comment, wherever it is
_REPLACES = re.compile(r"--[ \t]*npa[ \t]*:[ \t]*replaces", re.IGNORECASE)
#: what could open a string, quoted name or comment in some dialect
_OPENER = re.compile(r"['\"`\[$#]|/\*|--")
UP, DOWN, NO_TRANSACTION, REPLACES = "up", "down", "no-transaction", "replaces"
#: instead of ``-- npa:down``: the migration has nothing to undo (else an empty down
#: section makes it irreversible)
EMPTY_DOWN = "empty-down"
_MARKERS = ("'-- npa:up', '-- npa:down' (or '-- npa:empty-down') and (as the first line) "
            "'-- npa:no-transaction'")


def camel_case(snake: str) -> str:
    """``add_user_roles`` -> ``AddUserRoles`` (already CamelCase text is kept)."""
    if "_" not in snake and snake[:1].isupper():
        return snake
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def sql_migration_id(stem: str) -> str | None:
    """The id of a ``.sql`` file named ``stem``: the timestamp and the name in CamelCase
    when it is snake_case (``20251119150000_add_user_roles`` ->
    ``20251119150000_AddUserRoles``), else the stem as it is
    (``20210225112959_remove-categories``); ``None`` when it has no timestamp."""
    match = FILE_NAME.match(stem)
    if not match:
        return None
    rest = match["rest"]
    return f"{match['ts']}_{camel_case(rest) if _IDENTIFIER.fullmatch(rest) else rest}"


def load_sql_migration(path: Path) -> "SqlMigrationScript":
    """Read one ``.sql`` migration; its sections are found with the portable lexicon
    until :meth:`SqlMigrationScript.bind` gives the database's. A file named
    ``R__<name>.sql`` is a repeatable migration with the id ``R__<name>``."""
    migration_id, repeatable = sql_file_id(path)
    if _size(path) >= SqlMigrationScript.release_text_from:
        script = _large_file(path, migration_id, repeatable)
        if script is not None:
            return script
    return sql_migration_of(path, read_text(path), migration_id, repeatable)


def sql_file_id(path: Path) -> tuple[str, bool]:
    """The id of the migration of file ``path``, and whether it is repeatable; an
    error naming the file when its name makes no migration id."""
    repeatable = path.stem.startswith(REPEATABLE_PREFIX)
    migration_id = path.stem if repeatable else sql_migration_id(path.stem)
    if migration_id is None:
        raise MigrationSourceError(
            f"{path}: SQL migration file names must be '<14-digit UTC timestamp>_<name>.sql', "
            "e.g. 20251119150000_add_user_roles.sql (or 'R__<name>.sql' for a repeatable "
            "migration). Rename the file.")
    problem = id_problem(migration_id, repeatable)
    if problem:
        raise MigrationSourceError(f"{path}: {problem} Rename the file.")
    return migration_id, repeatable


def sql_migration_of(path: Path, text: str, migration_id: str, repeatable: bool
                     ) -> "SqlMigrationScript":
    """The migration of file ``path`` whose text (as :func:`read_text` reads it) is
    ``text``: its flags, the ids it replaces and its checksum."""
    line_end = text.find("\n")  # not split(): that would copy the rest of the file
    first = text if line_end < 0 else text[:line_end]
    marker = _MARKER.fullmatch(first.strip())
    transactional = not (marker and marker["name"].lower() == NO_TRANSACTION)
    # the checksum now: computed later, it would run at the peak of a large file's run
    script = SqlMigrationScript.from_text(text, id=migration_id, source=str(path),
                                          transactional=transactional, repeatable=repeatable,
                                          replaces=replaced_ids(text, path),
                                          known_checksum=text_checksum(text))
    script.path = path
    return script


#: about how much of a file :func:`text_checksum` reads at a time (characters)
_SLICE = 1 << 20


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise unreadable(path, exc) from exc


def _stamp(path: Path) -> tuple[int, int]:
    """What tells that a file changed: its size and modification time."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    return info.st_size, info.st_mtime_ns


def read_blocks(path: Path, size: int | None = None) -> Iterator[str]:
    """The text of a migration file as :func:`read_text` reads it, in blocks of about
    ``size`` characters (default :data:`_SLICE`, read at each call: tests shrink it) of
    whole lines (the last one may end without a line break)."""
    size = size or _SLICE
    rest = ""
    try:
        with open(path, encoding="utf-8-sig") as file:
            while True:
                block = file.read(size)
                if not block:
                    break
                block = rest + block if rest else block
                cut = block.rfind("\n") + 1
                if cut == 0:
                    rest = block
                    continue
                rest = block[cut:]
                yield block[:cut] if rest else block
    except UnicodeDecodeError as exc:
        raise MigrationSourceError(f"{path}: not valid UTF-8 ({exc}). Save it as UTF-8.") from exc
    except OSError as exc:
        raise unreadable(path, exc) from exc
    if rest:
        yield rest


def _large_file(path: Path, migration_id: str, repeatable: bool
                ) -> "SqlMigrationScript | None":
    """A large file's migration, read a block at a time (its first line, checksum, and
    whether it names replaced migrations or holds ``${`` placeholders), without its
    text: its statements are read from the file when they run
    (:class:`FileStatements`). ``None``: the file needs its text whole (it replaces
    migrations or may hold placeholders): read it the usual way."""
    stamp = _stamp(path)
    digest = hashlib.sha256()
    first: str | None = None
    special = False

    def blocks() -> Iterator[str]:
        nonlocal first, special
        for block in read_blocks(path):
            if first is None:
                first = block.split("\n", 1)[0]
            special = special or "${" in block or _REPLACES.search(block) is not None
            yield block

    for piece in normalised_stream(blocks()):
        digest.update(piece.encode("utf-8"))
    if special:
        return None
    marker = _MARKER.fullmatch((first or "").strip())
    transactional = not (marker and marker["name"].lower() == NO_TRANSACTION)
    script = SqlMigrationScript.from_text(
        None, id=migration_id, source=str(path), transactional=transactional,
        repeatable=repeatable, known_checksum=f"{CHECKSUM_ALGORITHM}:{digest.hexdigest()}")
    script.path = path
    script.stamp = stamp
    return script


def text_checksum(text: str) -> str:
    """The checksum of a SQL file's ``text``: ``checksum_of(normalise(text))``, hashed a
    slice of about 1 MiB of whole lines at a time, so that a large file is not copied
    whole three times (its lines, the normalised text, its UTF-8 bytes)."""
    digest = hashlib.sha256()
    for piece in normalised_pieces(text, _SLICE):
        digest.update(piece.encode("utf-8"))
    return f"{CHECKSUM_ALGORITHM}:{digest.hexdigest()}"


def replaced_ids(text: str, path: Path) -> tuple[str, ...]:
    """The ids of ``-- npa:replaces <id> <id> ...`` lines (ids separated by spaces or
    commas; several lines add up), which must come before ``-- npa:up``."""
    ids: list[str] = []
    up_seen = False
    if not _REPLACES.search(text):  # most files: no need to lex them (a large one: 0.5 s)
        return ()
    for match in _markers(text, PORTABLE):
        words = match["name"].replace(",", " ").split()
        name = words[0].lower() if words else ""
        if name == UP:
            up_seen = True
        elif name == REPLACES:
            line = _line(text, match.start())
            if up_seen:
                raise MigrationSourceError(
                    f"{path}: line {line}: '-- npa:replaces' must come before '-- npa:up'.")
            if len(words) < 2:
                raise MigrationSourceError(
                    f"{path}: line {line}: '-- npa:replaces' names no migration; write the "
                    "ids it replaces after it, e.g. '-- npa:replaces 20250101000000_A "
                    "20250102000000_B'.")
            for migration_id in words[1:]:
                problem = id_problem(migration_id)
                if problem:
                    raise MigrationSourceError(f"{path}: line {line}: {problem}")
                ids.append(migration_id)
    return tuple(ids)


def read_text(path: Path) -> str:
    """The text of a migration file as text mode reads it (line ends CR LF and CR read
    as LF), a UTF-8 byte-order mark at its start dropped. Decoded from the bytes read
    whole: no text wrapper and incremental decoder per file."""
    return decode_text(read_bytes(path), path)


def read_bytes(path: Path) -> bytes:
    """The bytes of a migration file, read whole."""
    data = read_bytes_below(path, None)
    assert data is not None  # no limit
    return data


def read_bytes_below(path: Path, limit: int | None) -> bytes | None:
    """The bytes of a migration file, read whole with as few system calls as can be (a
    deploy reads a thousand files: no file object, no buffer); ``None`` when the file
    has ``limit`` bytes or more (it is then not read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
            if limit is not None and size >= limit:
                return None
            data = os.read(fd, size + 1)
            if len(data) > size:  # not a regular file, or it grew since
                parts = [data]
                while more := os.read(fd, 1 << 20):
                    parts.append(more)
                data = b"".join(parts)
            return data
        finally:
            os.close(fd)
    except OSError as exc:
        raise unreadable(path, exc) from exc


def decode_text(data: bytes, path: Path) -> str:
    """The text of a migration file whose bytes are ``data``, as :func:`read_text`
    reads it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MigrationSourceError(f"{path}: not valid UTF-8 ({exc}). Save it as UTF-8.") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def unreadable(path: Path, exc: OSError) -> MigrationSourceError:
    """The error for a migration file the operating system cannot read (a dangling or
    looping symbolic link, no permission)."""
    return MigrationSourceError(
        f"{path}: cannot be read ({exc.strerror or exc}). Fix the file or the link that "
        "points to it, or move it out of the migrations folder.")


def file_changed(source: object) -> MigrationSourceError:
    """The error for a migration file that is no longer the one discovered: what runs
    must be what was checksummed."""
    return MigrationSourceError(
        f"{source}: the file changed while npa was running. Run the command again.")


@dataclass(frozen=True)
class Sections:
    """Where the ``up`` and ``down`` SQL of a file are; :attr:`up` and :attr:`down` are
    their text, each preceded by as many line breaks as come before it in the file, so
    a line number in it is the file's line number; ``empty_down``: the file says
    ``-- npa:empty-down`` (its down is ``""``). The text of a section is cut from the
    file's when it is asked for, not kept: a large file is then held once, not twice."""

    text: str = field(repr=False)
    up_span: tuple[int, int]
    down_span: tuple[int, int] | None
    empty_down: bool = False
    #: ``False``: :attr:`text` holds only the ``down`` section (:meth:`down_only`)
    whole: bool = True

    @property
    def up(self) -> str:
        """The ``up`` SQL."""
        if not self.whole:
            raise ValueError("the up section was let go (Sections.down_only)")
        return _section(self.text, *self.up_span)

    def down_only(self) -> "Sections":
        """These sections without the ``up`` one: only the ``down`` text is kept."""
        down = self.down
        return Sections(down or "", (0, 0), None if down is None else (0, len(down)),
                        empty_down=self.empty_down, whole=False)

    @property
    def down(self) -> str | None:
        """The ``down`` SQL, or ``None`` when the file has no ``down`` marker."""
        return None if self.down_span is None else _section(self.text, *self.down_span)


def find_sections(text: str, lexicon: Lexicon) -> Sections:
    """The sections of a SQL migration's ``text``, its markers found with ``lexicon``.

    :raises MigrationSourceError: no ``-- npa:up``, a marker twice, out of order or not
        on a line of its own, ``-- npa:no-transaction`` not on the first line, or SQL
        before ``-- npa:up``.
    """
    markers: dict[str, list[re.Match]] = {UP: [], DOWN: [], NO_TRANSACTION: [], EMPTY_DOWN: []}
    for match in _markers(text, lexicon):
        words = match["name"].lower().split()
        name = words[0] if words else ""
        if name not in markers:
            continue  # a plugin's directive, e.g. "-- npa:lint-ignore drop-table"
        if len(words) > 1 or text[text.rfind("\n", 0, match.start()) + 1:match.start()].strip():
            raise MigrationSourceError(
                f"line {_line(text, match.start())}: '-- npa:{name}' must be on a line of its "
                f"own, with nothing before or after it. The markers are {_MARKERS}.")
        markers[name].append(match)
    for name, found in markers.items():
        if len(found) > 1:
            lines = " and ".join(str(_line(text, m.start())) for m in found)
            raise MigrationSourceError(f"'-- npa:{name}' is on lines {lines}; keep one.")
    if markers[NO_TRANSACTION] and _line(text, markers[NO_TRANSACTION][0].start()) != 1:
        raise MigrationSourceError(
            f"line {_line(text, markers[NO_TRANSACTION][0].start())}: '-- npa:no-transaction' "
            "must be the first line of the file.")
    if not markers[UP]:
        raise MigrationSourceError(
            "no '-- npa:up' line. Put '-- npa:up' before the statements that apply the "
            "migration (and '-- npa:down' before those that revert it).")
    up = markers[UP][0]
    if markers[DOWN] and markers[EMPTY_DOWN]:
        raise MigrationSourceError("'-- npa:down' and '-- npa:empty-down' exclude each "
                                   "other; keep one.")
    empty = bool(markers[EMPTY_DOWN])
    found = markers[DOWN] or markers[EMPTY_DOWN]
    down = found[0] if found else None
    if down is not None and down.start() < up.start():
        raise MigrationSourceError(f"'-- npa:{EMPTY_DOWN if empty else DOWN}' must come after "
                                   "'-- npa:up'.")
    _nothing_before(text, up, markers[NO_TRANSACTION], lexicon)
    if empty and down is not None and mask(text[down.end():], lexicon).strip():
        raise MigrationSourceError(
            f"line {_line(text, down.start())}: SQL after '-- npa:empty-down' would never "
            "run. Write '-- npa:down' before the statements that revert the migration, or "
            "remove them.")
    return Sections(text, (up.end(), down.start() if down else len(text)),
                    (down.end(), len(text)) if down else None, empty_down=empty)


def _markers(text: str, lexicon: Lexicon):
    """The ``-- npa:`` comments of ``text`` that are code-level comments: not inside a
    string, a quoted name or another comment."""
    candidates = list(_MARKER.finditer(text))
    if not candidates:
        return
    starts = {m.start() for m in candidates}
    if all(m.start() in starts for m in _OPENER.finditer(text, 0, candidates[-1].start())):
        yield from candidates  # nothing before them can hide one: no need to lex
        return
    # outside every token, or the line comment starting here
    outside = outside_tokens(text, [m.start() for m in candidates], lexicon)
    yield from (match for match, code in zip(candidates, outside) if code)


def _nothing_before(text: str, up: re.Match, no_transaction: list[re.Match],
                    lexicon: Lexicon) -> None:
    """SQL before ``-- npa:up`` would never run: an error naming its line."""
    head = text[:up.start()]
    for marker in no_transaction:  # not a comment in every lexicon (MySQL: "--" + space)
        head = head[:marker.start()] + " " * (marker.end() - marker.start()) + head[marker.end():]
    code = mask(head, lexicon)
    stripped = code.lstrip()
    if stripped:
        raise MigrationSourceError(
            f"line {_line(text, len(code) - len(stripped))}: SQL before '-- npa:up' never "
            "runs. Move it below '-- npa:up' (or below '-- npa:down' if it reverts the "
            "migration).")


def _section(text: str, start: int, end: int) -> str:
    return "\n" * text.count("\n", 0, start) + text[start:end]


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


class SqlMigrationScript(MigrationScript):
    """A ``.sql`` migration: each section becomes one ``execute()`` per statement (so
    progress, and ``repair --resume``, work per statement), split by the provider the
    migration runs on (:meth:`bind`; the portable splitter until then). The checksum is
    over the normalised file text, so it does not depend on how the text is split."""

    #: the file's text; ``None`` once a large file's ``up`` is split (read again from
    #: :attr:`path` if it is needed again)
    text: str | None = ""
    #: the file, when the migration was read from one
    path: Path | None = None
    #: a file at least this long (characters) drops its text once its ``up`` is split,
    #: keeping only the ``down`` section: its statements hold the text a second time
    release_text_from: int = 1 << 20
    #: splits a section into statements (the provider's, once bound)
    split: "Callable[[str], list[str]]"
    #: the ``up`` / ``down`` sections, once found
    sections: "Sections | None" = None
    #: the lexicon they were found with
    lexicon: Lexicon = PORTABLE
    #: the values of ``${name}`` placeholders (:meth:`use_placeholders`)
    placeholders: "Placeholders"
    #: a large file read a block at a time (:func:`load_sql_migration`): its size and
    #: modification time when it was read, checked on every later read of it
    stamp: tuple[int, int] | None = None
    #: the lexicon :attr:`split` splits with when it can split a block at a time
    #: (:meth:`~npa_migrations.provider.SqlGenerator.streaming_lexicon`), else ``None``
    stream_lexicon: Lexicon | None = PORTABLE
    #: the provider's :meth:`~npa_migrations.provider.SqlGenerator.streaming_lexicon`,
    #: asked again when the statements are split; ``None``: :attr:`stream_lexicon` holds
    streaming: "Callable[[], Lexicon | None] | None" = None
    #: whether a block of the file needs the whole-text split
    #: (:meth:`~npa_migrations.provider.SqlGenerator.needs_whole_text`): the file is then
    #: read whole
    needs_whole_text: "Callable[[str], bool] | None" = None
    #: a large file's ``up`` statements, once its sections were found a block at a time
    streamed: "FileStatements | None" = None

    @classmethod
    def from_text(cls, text: str | None, **fields) -> "SqlMigrationScript":
        """The migration of a file's ``text`` (its byte-order mark already dropped);
        ``fields`` are those of :class:`~npa_migrations.migration.MigrationScript`
        except the builders. Its sections are found by :meth:`bind`, or with the
        portable lexicon when the operations are asked for unbound."""
        from .placeholders import Placeholders

        script = cls(build_up=_unusable, build_down=None, **fields)
        script.text = text
        script.split = split_statements
        script.placeholders = Placeholders()
        return script

    def use_placeholders(self, values: Mapping[str, Any]) -> None:
        """Replace ``${name}`` in the statements with these values (see
        :mod:`npa_migrations.builtin.placeholders`); the checksum stays the one of the
        file as written."""
        from .placeholders import Placeholders

        self.placeholders = Placeholders(values)
        self._up = self._down = None

    def bind(self, provider) -> None:
        """Find the sections with the provider's lexicon and split them its way; an
        error in the markers is raised here, while the migrations are discovered."""
        self.split = provider.sql.split_statements
        self.streaming = provider.sql.streaming_lexicon
        self.stream_lexicon = self.streaming()
        self.needs_whole_text = provider.sql.needs_whole_text
        self.use_lexicon(provider.sql.lexicon or PORTABLE)

    def use_lexicon(self, lexicon: Lexicon) -> None:
        """Find the sections with ``lexicon`` (again, if they were found before)."""
        self.forget_operations()
        self.streamed = None
        if self.text is None and self.stamp is not None and self.stream_lexicon == lexicon:
            sections = self._scan(lexicon)
        else:
            sections = self._find_sections(self._full_text(), lexicon)
        self.sections = sections
        self.build_with(lexicon, sections.empty_down, sections.down_span is not None)

    def build_with(self, lexicon: Lexicon, empty_down: bool, has_down: bool) -> None:
        """Build the operations from the sections found with ``lexicon`` (found now,
        or when first needed: :class:`~npa_migrations.builtin.sqlcache.CachedSqlScript`)."""
        self.lexicon = lexicon
        self.empty_down = empty_down
        self.build_up = self._build_up
        self.build_down = self._build_down if has_down else None

    def _find_sections(self, text: str, lexicon: Lexicon) -> Sections:
        try:
            return find_sections(text, lexicon)
        except MigrationSourceError as exc:
            raise MigrationSourceError(f"{self.source}: {exc}") from None

    def _scan(self, lexicon: Lexicon) -> Sections:
        """The sections of a large file, its markers found a block at a time
        (:func:`_scan_file`): the ``up`` statements become a :class:`FileStatements`
        (split when they are first asked for), only the ``down`` section's text is kept."""
        self._check_stamp()
        scan = _scan_file(self.path, lexicon, self.needs_whole_text)  # type: ignore[arg-type]
        if scan is None:  # markers out of the usual places (read whole: errors named), or
            # what the provider splits only whole (MySQL's DELIMITER lines)
            return self._find_sections(self._full_text(), lexicon)
        skeleton, up = scan
        sections = self._find_sections(skeleton, lexicon)
        self.streamed = FileStatements(self, up, lexicon)
        return sections.down_only()

    def _check_stamp(self) -> None:
        if self.stamp is not None and _stamp(self.path) != self.stamp:  # type: ignore[arg-type]
            raise file_changed(self.source)

    def _build_up(self) -> "list | FileStatements":
        streamed = self.streamed
        if streamed is not None:
            lexicon = streamed.lexicon if self.streaming is None else self.streaming()
            if lexicon is not None:
                return streamed.built(lexicon)
            self.streamed = None  # the provider no longer splits it a block at a time
        # one read of the shared state: fleet targets of one kind build it concurrently
        sections = self.sections
        if sections is None or not sections.whole:  # let go after an earlier split
            sections = self._find_sections(self._full_text(), self.lexicon)
        up = sections.up
        if self.path is not None and len(sections.text) >= self.release_text_from:
            # the statements will hold the up section: keep only the down section's text,
            # and let the file's go before the split (else it is held three times then)
            self.sections = sections.down_only()
            self.text = None
        del sections
        return self._statements(up)

    def _build_down(self) -> list:
        sections = self.sections
        assert sections is not None  # found by use_lexicon()
        return self._statements(sections.down or "")

    def _full_text(self) -> str:
        """The file's text, read again if it was let go; it must be the text the
        checksum was computed from."""
        text = self.text
        if text is None:
            assert self.path is not None  # only a file's text is let go
            text = read_text(self.path)
            if text_checksum(text) != self.known_checksum:
                raise file_changed(self.source)
        return text

    def up_operations(self) -> "Sequence":
        if self.sections is None:
            self.use_lexicon(PORTABLE)
        return super().up_operations()

    def down_operations(self) -> list | None:
        if self.sections is None:
            self.use_lexicon(PORTABLE)
        return super().down_operations()

    def _statements(self, sql: str) -> list:
        from ..operations import SplitStatement

        sql = self.placeholders.substitute(sql, self.source)
        try:
            return [SplitStatement(statement) for statement in self.split(sql)]
        except SqlSplitError as exc:
            raise SqlSplitError(f"{self.source}: {exc}", exc.position) from None


class FileStatements(OperationStream):
    """The ``up`` statements of a large ``.sql`` file: where each one is in the file's
    text (two numbers a statement), read from the file again on each pass, so a run
    holds one block of the file and one statement at a time, never the file. Every pass
    first checks the file's size and modification time against those it had when it
    was read (:attr:`SqlMigrationScript.stamp`). Indexing is a pass up to the index:
    consumers iterate."""

    def __init__(self, script: SqlMigrationScript, up: tuple[int, int], lexicon: Lexicon):
        self.script = script
        #: where the ``up`` section is in the file's text
        self.up = up
        self.lexicon = lexicon
        #: where each statement is (start and end), once split
        self.spans: array | None = None
        self.error: SqlSplitError | None = None

    def built(self, lexicon: Lexicon | None = None) -> "FileStatements":
        """These statements, split now if they were not (:func:`_split_file`), or the
        error splitting them raises (when the operations are asked for, as for a file
        read whole). A ``lexicon`` other than the one they were split with (the
        server's settings, learnt since, changed the provider's) splits them again."""
        if lexicon is not None and lexicon != self.lexicon:
            self.lexicon, self.spans, self.error = lexicon, None, None
        if self.spans is None and self.error is None:
            self.script._check_stamp()
            self.spans, self.error = _split_file(self.script.path,  # type: ignore[arg-type]
                                                 self.lexicon, *self.up)
        if self.error is not None:
            raise SqlSplitError(f"{self.script.source}: {self.error}",
                                self.error.position) from None
        return self

    def __len__(self) -> int:
        return len(self.built().spans) // 2  # type: ignore[arg-type]

    def __iter__(self) -> Iterator:
        from ..operations import SplitStatement

        return map(SplitStatement, self.statements())

    def statements(self) -> Iterator[str]:
        script = self.script
        script._check_stamp()
        spans = self.built().spans
        assert spans is not None
        blocks = read_blocks(script.path)  # type: ignore[arg-type]
        buffer, at = "", 0  # ``buffer`` is the file's text from ``at``
        for index in range(0, len(spans), 2):
            start, end = spans[index], spans[index + 1]
            while end > at + len(buffer):
                block = next(blocks, None)
                if block is None:
                    script._check_stamp()
                    raise file_changed(script.source)
                drop = min(start - at, len(buffer))
                buffer = buffer[drop:] + block
                at += drop
            yield buffer[start - at:end - at].strip()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index] if index.step else \
                list(itertools.islice(self, *index.indices(len(self))[:2]))
        count = len(self)
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise IndexError(index)
        return next(itertools.islice(self, position, None))


#: the markers that shape the sections (others are plugins' directives)
_SECTION_MARKERS = (UP, DOWN, NO_TRANSACTION, EMPTY_DOWN, REPLACES)


def _marker_name(match: re.Match) -> str:
    words = match["name"].lower().split()
    return words[0] if words else ""


class _WholeText(Exception):
    """A block of the file needs the provider's whole-text split."""


def _checked(blocks: Iterator[str], needs_whole_text: "Callable[[str], bool] | None"
             ) -> Iterator[str]:
    """``blocks``, raising :class:`_WholeText` at one that ``needs_whole_text``."""
    for block in blocks:
        if needs_whole_text is not None and needs_whole_text(block):
            raise _WholeText
        yield block


def _scan_file(path: Path, lexicon: Lexicon,
               needs_whole_text: "Callable[[str], bool] | None" = None
               ) -> "tuple[str, tuple[int, int]] | None":
    """:func:`_scan_blocks` of the file's blocks; ``None`` as well when a block of it
    ``needs_whole_text`` (the provider's split needs the whole text: it is read whole)."""
    try:
        return _scan_blocks(_checked(read_blocks(path), needs_whole_text), lexicon)
    except _WholeText:
        return None


def _scan_blocks(blocks: Iterator[str], lexicon: Lexicon
                 ) -> "tuple[str, tuple[int, int]] | None":
    """Find the markers of a large file from its ``blocks`` (whole lines): its
    ``-- npa:up`` marker, then every code-level ``-- npa:`` marker after it
    (:func:`~npa_migrations.sqltext.outside_tokens` from a line break known to be
    outside every string and comment to the next), up to the ``-- npa:down`` (or
    ``empty-down``) marker.

    :returns: ``(skeleton, (start, stop))``: a text with the file's markers where the
        file has them and the same line numbers, for :func:`find_sections` to check
        (the file's text before ``-- npa:up`` and from a line break before the down
        marker on; between them only their line breaks); and where the ``up`` section
        is in the file's text. ``None`` when there is no up marker, or a section
        marker other than the down one follows it: the file is read whole, where the
        error names it.
    """
    head: list[str] = []
    up: re.Match | None = None
    for block in blocks:  # the text up to the up marker
        head.append(block)
        if _MARKER.search(block):
            text = "".join(head)
            up = next((m for m in _markers(text, lexicon) if _marker_name(m) == UP), None)
            if up is not None:
                break
            head = [text]
    if up is None:
        return None
    text = head[0] if len(head) == 1 else "".join(head)
    del head
    at = up.end()  # where ``buffer`` starts in the file's text: outside every token
    skeleton = text[:at]
    buffer = text[at:]
    del text
    lines = 0  # line breaks between the up marker and ``at``
    down = -1  # where the down marker starts in the file's text
    ended = False
    while True:
        cut = len(buffer) if ended else buffer.rfind("\n")
        candidates = [m for m in _MARKER.finditer(buffer, 0, max(cut, 0))]
        outside = outside_tokens(buffer, [m.start() for m in candidates] + [cut], lexicon) \
            if cut > 0 else [False]
        if outside[-1] or ended:  # everything before the cut is read
            found = [m for m, code in zip(candidates, outside) if code
                     and _marker_name(m) in _SECTION_MARKERS]
            if found:
                if _marker_name(found[0]) not in (DOWN, EMPTY_DOWN):
                    return None
                down = at + found[0].start()
                break
            if ended:
                break
            lines += buffer.count("\n", 0, cut)
            at += cut
            buffer = buffer[cut:]
        more = next(blocks, None)
        if more is None:
            ended = True
        else:
            buffer += more
    tail = buffer + "".join(blocks)  # the file's text from ``at`` on (a line break, or
    # the end of the up marker)
    stop = at + len(tail) if down < 0 else down
    return skeleton + "\n" * lines + tail, (up.end(), stop)


def _split_file(path: Path, lexicon: Lexicon, start: int, stop: int
                ) -> "tuple[array | None, SqlSplitError | None]":
    """Split the text of a large file from ``start`` to ``stop`` (its ``up`` section)
    with ``lexicon``, a block at a time (:func:`~npa_migrations.sqltext.split_complete`):
    where each statement is in the file's text (start and end, two numbers a
    statement), or the :class:`SqlSplitError` it raises, naming the file's line."""
    spans = array("Q")
    at = 0  # where ``buffer`` starts in the file's text
    lines = 0  # line breaks before ``at``
    buffer = ""
    for block in read_blocks(path):
        if at + len(block) <= start:  # before the section
            lines += block.count("\n")
            at += len(block)
            continue
        if not buffer and at < start:
            lines += block.count("\n", 0, start - at)
            block, at = block[start - at:], start
        buffer += block[:max(stop - at - len(buffer), 0)]
        _, cut, rest = split_complete(buffer, lexicon)
        spans.extend([at + position for position in cut])
        lines += buffer.count("\n", 0, rest)
        at += rest
        buffer = buffer[rest:]
        if at + len(buffer) >= stop:
            break
    try:  # the line numbers of an error: the file's (as many line breaks before)
        padding = "\n" * lines
        _, last, _ = split_complete(padding + buffer, lexicon, final=True)
    except SqlSplitError as exc:
        return None, exc
    # (the first statement's text starts with the padding: not the file's)
    spans.extend([at + max(position - len(padding), 0) for position in last])
    return spans, None


def _unusable() -> list:  # replaced by use_lexicon() before anyone can call it
    raise AssertionError("sections not read")
