"""Write-ahead bookkeeping: what a migration that cannot be rolled back as a whole has
done, written down before and as it happens.

A migration runs in one transaction with its history row when the database can roll
back everything it does (transactional DDL, every step transactional): nothing to
journal, a crash rolls it all back. Otherwise -- DDL on MySQL, MariaDB or Oracle, a
``-- npa:no-transaction`` migration, a step a plugin runs outside a transaction,
transaction mode ``none`` -- its history row is the journal:

* before the first statement the row says the migration is ``running`` (written in the
  transaction of the first statements where there is one: the first implicit commit
  makes it durable before anything else is; where the first statement certainly commits
  implicitly, written alone in autocommit just before it, :meth:`Journal.start_later`;
  where DDL commits implicitly and another migration ended just before in the same run,
  in the transaction that recorded that end --
  :meth:`~npa_migrations.engine.live.LiveTarget.finish_migration`);
* a statement that runs inside a transaction shares that transaction with the update of
  the row's position, so a data change and the record of it commit together -- a data
  change is never counted twice. Where the provider says the next statement cannot
  commit the transaction (plain DML,
  :meth:`~npa_migrations.provider.driver.Driver.keeps_transaction`), the update waits
  in memory (:meth:`Journal.advance_later`) and is written once before the transaction
  commits or a statement that may commit it runs (:meth:`Journal.flush`): what commits
  is still the data with its record, and what rolls back takes neither;
* a statement that commits by itself (DDL where DDL commits implicitly) is settled in
  the next transaction -- or, when the next statement certainly commits implicitly too
  (:meth:`~npa_migrations.provider.driver.Driver.commits_implicitly`), alone in
  autocommit just before it, which that statement's implicit commit would make durable
  anyway: if the process dies in between, the row's position says the statement may
  have run, and the next run checks it against the live schema
  (:mod:`npa_migrations.engine.recovery`);
* a statement that must run outside a transaction is marked ``in_flight`` before it runs
  and settled after it.

After a kill at any point, the row says exactly which statements took effect, except at
most one marked or implicitly committing statement, whose outcome the next run reads from
the live schema. A failure or a stop within the process records the exact position; a
migration of which nothing took effect leaves no row at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .history import FAILED, RUNNING, STOPPED, Position

if TYPE_CHECKING:  # pragma: no cover
    from .plan import PlannedMigration
    from .session import Session


class Journal:
    """The history row of one migration as its write-ahead journal.

    :param session: the run's session.
    :param migration: the planned migration it journals.
    :ivar position: how far the steps have run, as recorded in the open transaction (or
        for good, outside one).
    :ivar settled: how far they have certainly taken effect: committed, with its record or
        (a statement that committed itself) before it.
    :ivar durable_row: the row exists in the database, committed.
    """

    def __init__(self, session: "Session", migration: "PlannedMigration"):
        self.session = session
        self.migration = migration
        self.position = migration.start
        self.settled = migration.start
        self.durable_row = migration.resume is not None
        #: the row exists in the open transaction or for good
        self.written = self.durable_row
        #: ``position`` is ahead of the row in the open transaction (see :meth:`flush`)
        self.unwritten = False
        #: the ``running`` row waits for the first statement (see :meth:`start_later`)
        self.start_pending = False

    @property
    def took_effect(self) -> bool:
        """Whether anything of the migration's steps in this direction has certainly
        taken effect (in this run, or an earlier one it continues)."""
        resume = self.migration.resume
        continues = (resume is not None and not resume.success
                     and (resume.direction or "up") == self.migration.direction)
        return self.settled != Position() or continues

    # writes ----------------------------------------------------------------------------
    def start(self) -> None:
        """Write the row as ``running`` at the start position (in the open transaction,
        if any: it commits with the first statements)."""
        session, pm = self.session, self.migration
        conn = session.connection
        if pm.resume is None:  # a migration not applied yet: its row is new
            session.history.record(conn, pm.id, pm.script.checksum, 0, False,
                                   steps_done=self.position.step, replace=True,
                                   state=RUNNING, direction=pm.direction,
                                   statements_done=self.position.statement)
        else:  # continued, rolled back or undone: the row it has
            session.history.mark(conn, pm.id, success=False, state=RUNNING,
                                 direction=pm.direction, position=self.position)
        self.written = True
        self.start_pending = False
        if not conn.in_transaction:
            self.durable_row = True
            self._journaled()

    def start_later(self) -> None:
        """Write the ``running`` row just before the first statement (:meth:`flush`), in
        its transaction -- or alone, in autocommit, when that statement commits
        implicitly and would make it durable anyway."""
        self.start_pending = True

    def advance(self, position: Position, *, in_flight: bool = False) -> None:
        """Record that the steps have run up to ``position`` (and, with ``in_flight``,
        that a statement committing on its own starts there)."""
        self.session.history.progress(self.session.connection, self.migration.id, position,
                                      in_flight)
        self.position = position
        self.unwritten = False
        if not self.session.connection.in_transaction:
            self.settled = position
            self._journaled()

    def advance_later(self, position: Position) -> None:
        """The steps have run up to ``position`` inside the open transaction; the row is
        updated by :meth:`flush`, which the engine calls before anything that could make
        the transaction's work durable (a commit, a statement that may commit)."""
        self.position = position
        self.unwritten = True

    def flush(self) -> None:
        """Write the row :meth:`start_later` or the position :meth:`advance_later` kept in
        memory (in the open transaction, so it commits with the statements it records;
        or alone, before a statement that commits implicitly)."""
        if self.start_pending:
            self.start()
        elif self.unwritten:
            self.advance(self.position)

    def committed(self) -> None:
        """The open transaction committed (explicitly, or implicitly before a DDL
        statement): everything written so far took effect for good."""
        self.settled = self.position
        if self.written:
            self.durable_row = True

    def statement_committed(self, after: Position) -> None:
        """The statement before ``after`` committed by itself (DDL that commits
        implicitly): it took effect, though its record is not written yet."""
        self.committed()
        self.settled = after

    def step_done(self, index: int) -> None:
        """Every statement of step ``index`` ran: positions inside it become the start of
        the next step."""
        following = Position(index + 1, 0)
        if self.position.step == index and self.position.statement:
            self.position = following
        if self.settled.step == index and self.settled.statement:
            self.settled = following

    def rolled_back(self) -> None:
        """The open transaction rolled back: back to what certainly took effect (and no
        row, when it had not committed yet)."""
        self.position = self.settled
        self.written = self.durable_row
        self.unwritten = False

    def reconcile(self) -> None:
        """After a failed statement that may have committed what came before it (DDL
        commits implicitly before it runs, even when it then fails), read the row back:
        what it records took effect."""
        row = self.session.history.read_one(self.session.connection, self.migration.id)
        if row is not None and row.status == RUNNING \
                and (row.direction or "up") == self.migration.direction:
            self.durable_row = self.written = True
            self.settled = self.position = max(self.settled, row.position)

    def settle(self, state: str, error: str | None = None, execution_ms: int = 0) -> None:
        """Outside any transaction: record that the migration ``stopped`` (interrupted at
        a safe point) or ``failed`` at what certainly took effect. A migration of which
        nothing took effect leaves no row: it is as if it had not started."""
        conn = self.session.connection
        if not self.took_effect:
            self._put_back()
            return
        if not self.durable_row:  # the row was rolled back with the statements after it
            self.start()
        self.session.history.progress(conn, self.migration.id, self.settled)
        self.session.history.settle(conn, self.migration.id, state, error, execution_ms)
        self._journaled()

    def _journaled(self) -> None:
        """A write of the row took effect for good (outside any transaction): a boundary
        of the run (``npa_checkpoint`` point ``journaled``)."""
        self.session.checkpoint("journaled", self.migration.script)

    def _put_back(self) -> None:
        """Nothing took effect: the row as it was before the run (none, for a migration
        not applied yet)."""
        pm, conn = self.migration, self.session.connection
        if not self.durable_row:
            return
        resume = pm.resume
        if resume is None:
            self.session.history.delete(conn, pm.id)
            self.durable_row = self.written = False
        else:
            self.session.history.mark(conn, pm.id, success=resume.success,
                                      state=resume.status, direction=resume.direction or "up",
                                      position=resume.position, in_flight=resume.in_flight)

    def stop(self) -> None:
        """The run was interrupted at a safe point: record it (``stopped``)."""
        self.settle(STOPPED)

    def fail(self, error: str, execution_ms: int) -> None:
        """A statement failed: record it (``failed``, with the error)."""
        self.settle(FAILED, error, execution_ms)
