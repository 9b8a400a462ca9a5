"""The pytest plugin for an application's own migrations (npa_migrations.apptest), run on
generated projects with pytester: the ready tests pass on good migrations and fail, naming
the migration and what is wrong, on bad ones (docs/testing-your-migrations.md). The sample
application in examples/shop runs on SQLite, PostgreSQL and MariaDB in
tests/test_example_shop.py."""

import textwrap

import pytest

CONFTEST = 'pytest_plugins = ["npa_migrations.apptest"]\n'


@pytest.fixture(autouse=True)
def engine_loaded_before_the_inner_runs():
    """pytester's in-process runs forget the modules first imported during a run; the
    engine's modules and plugins are loaded here first, so that every inner run shares
    them (a ``Migration`` class re-imported by a later run would not be the one the
    discovery plugin knows)."""
    import npa_migrations.apptest.checks  # noqa: F401
    import npa_migrations.schema.autogen  # noqa: F401
    from npa_migrations import MigrationExecutor, Migration  # noqa: F401
    from npa_migrations.plugins import get_plugin_manager

    get_plugin_manager()

USERS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateUsers(Migration):
        def up(self, b):
            b.create_table("users", sa.Column("id", sa.Integer(), nullable=False),
                           sa.Column("email", sa.String(length=100), nullable=False),
                           sa.PrimaryKeyConstraint("id", name="pk_users"))

        def down(self, b):
            b.drop_table("users")
"""

ADD_NAME = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class AddName(Migration):
        {extra}
        def up(self, b):
            b.add_column("users", sa.Column("name", sa.String(length=50), nullable=True))
            b.create_index("ix_users_name", "users", ["name"])

        def down(self, b):
            {down}
"""

MODELS = """
    import sqlalchemy as sa

    metadata = sa.MetaData()
    users = sa.Table("users", metadata,
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("email", sa.String(100), nullable=False),
                     sa.Column("name", sa.String({length}), nullable=True),
                     sa.Index("ix_users_name", "name"))
"""


def project(pytester: pytest.Pytester, down: str = 'b.drop_index("ix_users_name", "users")\n'
            '            b.drop_column("users", "name")', extra: str = "",
            model_length: int | None = 50, conftest: str = CONFTEST) -> None:
    """A project with npa.toml, two migrations, models and the one-line conftest."""
    settings = 'migrations = "migrations"\n'
    if model_length is not None:
        settings += 'model = "models:metadata"\n'
        pytester.makepyfile(models=textwrap.dedent(MODELS.format(length=model_length)))
    pytester.makefile(".toml", npa=settings)
    folder = pytester.mkdir("migrations")
    (folder / "20250101000000_users.py").write_text(textwrap.dedent(USERS))
    (folder / "20250102000000_name.py").write_text(textwrap.dedent(ADD_NAME.format(
        down=down, extra=extra)))
    pytester.makeconftest(conftest)
    pytester.syspathinsert()


def test_ready_tests_pass_on_good_migrations(pytester):
    project(pytester)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*conftest.py::test_npa_single_order PASSED*",
                                 "*conftest.py::test_npa_stairway PASSED*",
                                 "*conftest.py::test_npa_down_restores_schema PASSED*",
                                 "*conftest.py::test_npa_models_match PASSED*"])


def test_plugin_is_off_without_the_conftest_line(pytester):
    project(pytester, conftest="")
    pytester.makepyfile(test_nothing="def test_nothing(): pass")
    result = pytester.runpytest("--npa-url", "sqlite:///ignored.db")  # the option is known
    result.assert_outcomes(passed=1)


def test_a_down_that_leaves_something_behind_fails(pytester):
    project(pytester, down='b.drop_index("ix_users_name", "users")')
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        "*up() of 20250102000000_AddName after its down() failed:",
        "*failed at statement: ALTER TABLE users ADD COLUMN name VARCHAR(50)",
        "*duplicate column name: name",
        "*down() of 20250102000000_AddName (*20250102000000_name.py) does not restore the "
        "schema its up() started from:",
        "*extra column users.name: before up() absent, after down() VARCHAR(50)*"])
    assert "During handling" not in result.stdout.str()


def test_a_down_that_fails_fails_the_stairway(pytester):
    project(pytester, down='b.drop_table("no_such_table")')
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*down() of 20250102000000_AddName failed:",
                                 "*Migration 20250102000000_AddName * failed at statement: "
                                 "DROP TABLE no_such_table*"])


def third_migration(pytester, file: str, name: str, depends_on: str = "",
                    down: bool = True) -> None:
    """One more migration that runs ``SELECT 1``, with ``depends_on`` (and ``down``)."""
    body = textwrap.dedent(f"""
        from npa_migrations import Migration

        class {name}(Migration):
            depends_on = ({depends_on!r},) if {depends_on!r} else ()

            def up(self, b):
                b.execute("SELECT 1")
    """)
    if down:
        body += "\n    def down(self, b):\n        pass\n"
    (pytester.path / "migrations" / file).write_text(body)


def test_two_branches_with_one_timestamp_have_no_single_order(pytester):
    project(pytester)
    third_migration(pytester, "20250102000000_other.py", "Other")
    result = pytester.runpytest("-k", "single_order")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines([
        "*share a timestamp and neither depends on the other*",
        "*20250102000000_AddName and 20250102000000_Other*"])


def test_a_dependency_orders_migrations_with_one_timestamp(pytester):
    project(pytester, extra='depends_on = ("20250102000000_Other",)')
    third_migration(pytester, "20250102000000_other.py", "Other", "20250101000000_CreateUsers")
    pytester.runpytest("-k", "single_order").assert_outcomes(passed=1, deselected=3)


def test_a_dependency_cycle_is_reported(pytester):
    project(pytester, extra='depends_on = ("20250103000000_Cycle",)')
    third_migration(pytester, "20250103000000_cycle.py", "Cycle", "20250102000000_AddName",
                    down=False)
    result = pytester.runpytest("-k", "single_order")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(["*The migrations have no single order:*", "*cycle*"])


def test_models_that_differ_fail_and_no_models_skip(pytester):
    project(pytester, model_length=80)
    result = pytester.runpytest("-k", "models_match")
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(["*changed type users.name: the migrations have VARCHAR(50), "
                                 "the models VARCHAR(80)*"])


def test_no_models_configured_skips_the_models_test(pytester):
    project(pytester, model_length=None)
    result = pytester.runpytest("-k", "models_match", "-rs")
    result.assert_outcomes(skipped=1, deselected=3)
    result.stdout.fnmatch_lines(["*no models configured*"])


def test_irreversible_migrations_are_applied_and_named(pytester):
    project(pytester)
    (pytester.path / "migrations" / "20250103000000_final.py").write_text(textwrap.dedent("""
        from npa_migrations import Migration

        class Final(Migration):
            def up(self, b):
                b.execute("UPDATE users SET name = 'x'")
    """))
    result = pytester.runpytest("-k", "stairway or restores")
    result.assert_outcomes(passed=2, deselected=2, warnings=2)
    result.stdout.fnmatch_lines(["*Not stepped down (no down steps): 20250103000000_Final*"])


def test_npa_config_and_the_runner_in_an_applications_own_test(pytester):
    project(pytester, conftest=CONFTEST + textwrap.dedent("""
        import pytest
        from npa_migrations.apptest.runner import NpaTestConfig

        @pytest.fixture(scope="session")
        def npa_config():
            return NpaTestConfig(migrations=["migrations"], model="models:metadata",
                                 options={"history_table": "app_history"})
    """))
    pytester.makepyfile(test_data=textwrap.dedent("""
        def test_rows_survive_the_new_column(npa_runner):
            npa_runner.up("20250102000000", before=True)
            npa_runner.insert("users", [{"id": 1, "email": "a@example.com"}])
            npa_runner.up()
            assert npa_runner.rows("SELECT id, name FROM users") == [(1, None)]
            assert npa_runner.applied() == ["20250101000000_CreateUsers",
                                            "20250102000000_AddName"]
            assert npa_runner.rows("SELECT COUNT(*) FROM app_history") == [(2,)]
            npa_runner.down_all()
            assert npa_runner.applied() == []
    """))
    result = pytester.runpytest("-m", "not npa_migrations")
    result.assert_outcomes(passed=1, deselected=4)
