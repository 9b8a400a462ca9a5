"""``python manage.py npa <command>``: ``npa migrate <command>`` on the project's database
(see :mod:`npa_migrations.frameworks.django`)."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Database migrations with npa-migrations: 'npa up', 'npa status', 'npa down "
            "--steps 1', ... (every 'npa migrate' command; 'npa --help' lists them).")

    def add_arguments(self, parser) -> None:
        import argparse

        parser.add_argument("npa_arguments", nargs=argparse.REMAINDER,
                            help="an 'npa migrate' command and its options")

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand everything after ``npa`` to the ``npa migrate`` command line, which
        parses its own options and ends the process with its exit code."""
        self.execute_npa(argv[2:])

    def handle(self, *args: str, **options: object) -> None:
        """``call_command("npa", "up")``: the same, without ending the process on
        success."""
        extra = options.get("npa_arguments")
        self.execute_npa([*args, *(extra if isinstance(extra, list) else [])])

    def execute_npa(self, arguments: list[str]) -> None:
        from npa_migrations.cli import cli

        from ... import database_url

        url = getattr(settings, "NPA_DATABASE_URL", None) or database_url(
            settings.DATABASES["default"])
        if not isinstance(url, str):
            url = url.render_as_string(hide_password=False)
        migrations = getattr(settings, "NPA_MIGRATIONS", "migrations")
        sources = [migrations] if isinstance(migrations, (str, bytes)) or not hasattr(
            migrations, "__iter__") else list(migrations)
        command = ["-d", url, *(arg for source in sources for arg in ("-m", str(source))),
                   "migrate", *arguments]
        try:
            cli.main(args=command, prog_name=f"{sys.argv[0]} npa", standalone_mode=True)
        except SystemExit as exit:
            if exit.code not in (0, None):
                raise
