"""``flask npa up``: the ``npa migrate`` commands in a Flask application's command line.

::

    from flask import Flask
    from npa_migrations.frameworks.flask import init_app

    app = Flask(__name__)
    app.config["NPA_DATABASE_URL"] = "postgresql://app@db/app"   # or SQLALCHEMY_DATABASE_URI
    app.config["NPA_MIGRATIONS"] = "migrations"                 # a folder or a package
    init_app(app)

Then ``flask npa up``, ``flask npa status``, ``flask npa down --steps 1`` ... -- every
``npa migrate`` command (plugin commands too), with the same options, output and exit
codes. The database comes from ``NPA_DATABASE_URL``, else ``SQLALCHEMY_DATABASE_URI``
(Flask-SQLAlchemy's key), else npa's usual configuration (environment, ``npa.toml``).
"""

from __future__ import annotations

from typing import Any

import click


class NpaGroup(click.Group):
    """``flask npa``: the commands of ``npa migrate``, found there when asked for."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> Any:
        from ..cli import migrate

        return migrate.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ..cli import migrate

        return migrate.list_commands(ctx)


def init_app(app: Any) -> None:
    """Add the ``npa`` command group to ``app``'s command line."""
    app.cli.add_command(npa)


@click.group("npa", cls=NpaGroup)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def npa(ctx: click.Context, verbose: bool) -> None:
    """Database migrations (npa-migrations), configured from the application."""
    from flask.cli import ScriptInfo

    from ..cli import Context

    app = ctx.ensure_object(ScriptInfo).load_app()
    config = app.config
    url = config.get("NPA_DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI")
    migrations = config.get("NPA_MIGRATIONS")
    if isinstance(migrations, str):
        migrations = (migrations,)
    ctx.obj = Context(url, tuple(migrations or ()), None, verbose)
