"""URLs as hosting providers and password generators write them, on a real server (the
test server trusts every password, so any password connects): ``postgres://``, an
unencoded ``@`` in the password, ``?password=``. No output ever holds the password."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from npa_migrations.cli import cli


def with_password(pg, password: str, *, scheme: str = "postgresql", in_query: bool = False):
    url = sa.make_url(pg.url)
    query = f"options={quote(url.query['options'])}"
    if in_query:
        return (f"{scheme}://{url.username}@{url.host}:{url.port}/{url.database}?{query}"
                f"&password={quote(password)}")
    return f"{scheme}://{url.username}:{password}@{url.host}:{url.port}/{url.database}?{query}"


def npa(pg, url, *args):
    """The CLI with this test's lock name (from its config file)."""
    return CliRunner().invoke(cli, ["--config", str(pg.config_file()), "-d", url,
                                    "-m", str(pg.folder), "migrate", *args])


@pytest.mark.parametrize("password, in_query", [("p@ss/w@rd", False), ("s3cr@t", False),
                                                ("s3cret;&x", True)])
def test_no_output_holds_the_password(pg, password, in_query):
    url = with_password(pg, password, in_query=in_query)
    pg.sql("20250101000000_first", "-- npa:up\nCREATE TABLE first (id INT);")
    outputs = []
    for args in [("up", "--json"), ("status",), ("status", "--json"), ("history", "--json"),
                 ("validate",), ("up", "--target", "nope"), ("up", "--dry-run", "--json")]:
        result = npa(pg, url, *args)
        assert result.exit_code in (0, 2), result.output
        outputs.append(result.output)
    assert pg.tables() == {"first"}
    assert json.loads(outputs[3])["database"].startswith("postgresql://postgres")
    # SQLAlchemy alone printed the tail after the first "@" as the host: ":***@t@127.0.0.1"
    leaks = {password, quote(password, safe=""), password.partition("@")[2] + "@"} - {"@"}
    for output in outputs:
        for leak in leaks:
            assert leak not in output, output


def test_postgres_scheme_urls_work(pg):
    """What Heroku, Render and Fly hand out; it gave "No provider for 'postgres'"."""
    url = with_password(pg, "s3cret", scheme="postgres")
    pg.sql("20250101000000_first", "-- npa:up\nCREATE TABLE first (id INT);\n"
                                   "-- npa:down\nDROP TABLE first;")
    assert npa(pg, url, "up").exit_code == 0
    result = npa(pg, url, "status")
    assert result.exit_code == 0 and "URL: postgres://postgres:***@" in result.output
    assert pg.tables() == {"first"}
    assert npa(pg, url, "down").exit_code == 0
    assert pg.tables() == set()
