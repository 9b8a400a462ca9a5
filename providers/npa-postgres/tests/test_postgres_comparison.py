"""PostgreSQL's schema rules (no server needed): type spellings, serial defaults."""

from __future__ import annotations

import sqlalchemy as sa

from npa_migrations.schema.model import ColumnModel
from npa_postgres.provider import PostgresProvider


def rules():
    return PostgresProvider(sa.engine.make_url("postgresql+psycopg://u@h/db")).schema_rules


def test_type_spellings():
    r = rules()
    assert r.normalise_type("FLOAT") == "DOUBLE PRECISION"
    assert r.compare_type("FLOAT(24)", "REAL") and r.compare_type("FLOAT8", "FLOAT(53)")
    assert r.normalise_type("TIMESTAMP WITHOUT TIME ZONE") == "TIMESTAMP"
    assert r.compare_type("TIMESTAMP(6) WITH TIME ZONE", "TIMESTAMPTZ")
    assert r.normalise_type("character varying(5)") == "VARCHAR(5)"
    assert r.compare_type("INT4", "INTEGER") and r.compare_type("INT8", "BIGINT")
    assert not r.compare_type("INT2", "INTEGER")


def test_serial_default_matches_no_declared_default():
    r = rules()
    declared, live = ColumnModel("id"), ColumnModel("id")
    assert r.compare_server_default(declared, live, None,
                                    "nextval('t_id_seq'::regclass)")
    assert not r.compare_server_default(declared, live, None, "42")
    assert r.compare_server_default(declared, live, "statement_timestamp()", "now()")


def test_reflection_does_not_look_up_hstore():
    assert rules().reflection_options() == {"use_native_hstore": False}
