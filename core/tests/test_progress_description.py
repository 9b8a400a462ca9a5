"""The line that says how far a migration took effect (``describe_progress``): every
operation of a short migration by name; of a long one (a large ``.sql`` file's 100,000
statements) the first few and the last, so a failure message stays readable."""

from __future__ import annotations

from dataclasses import dataclass

from npa_migrations.engine.history import Position
from npa_migrations.engine.live import LISTED_OPERATIONS, describe_progress


@dataclass
class Operation:
    number: int

    def describe(self) -> str:
        return f"op {self.number}"


@dataclass
class Step:
    operations: list

    def describe(self) -> str:
        return f"step of {len(self.operations)}"


def steps(count: int, per_step: int = 1) -> list[Step]:
    return [Step([Operation(i * per_step + k) for k in range(per_step)]) for i in range(count)]


def test_a_short_migration_names_every_operation():
    assert describe_progress(steps(4), Position(0)) == "0 of 4 operation(s) took effect"
    assert describe_progress(steps(4), Position(2)) == \
        "2 of 4 operation(s) took effect (op 0; op 1)"
    assert describe_progress(steps(9), Position(LISTED_OPERATIONS + 1)).endswith(
        "(op 0; op 1; op 2; op 3; op 4; op 5)")


def test_a_long_one_names_the_first_and_the_last():
    text = describe_progress(steps(100_000), Position(60_000))
    assert text == ("60000 of 100000 operation(s) took effect (op 0; op 1; op 2; op 3; op 4; "
                    "and 59994 more, the last: op 59999)")


def test_a_step_that_took_effect_in_part_is_named_after_them():
    text = describe_progress(steps(3, per_step=2), Position(1, 1))
    assert text == ("2 of 6 operation(s) took effect (op 0; op 1), and 1 statement(s) of "
                    "the next (step of 2)")
