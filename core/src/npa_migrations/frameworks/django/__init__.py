"""``python manage.py npa up``: the ``npa migrate`` commands in a Django project.

Add the app and say where the migrations are::

    INSTALLED_APPS = [..., "npa_migrations.frameworks.django"]
    NPA_MIGRATIONS = BASE_DIR / "db" / "migrations"        # a folder or a dotted package
    # NPA_DATABASE_URL = "postgresql://app@db/app"         # default: DATABASES["default"]

Then ``python manage.py npa up``, ``npa status``, ``npa down --steps 1`` ... -- every
``npa migrate`` command with its options, output and exit codes. Without
``NPA_DATABASE_URL`` the database is ``DATABASES["default"]``, turned into a URL by
:func:`database_url`.
"""

from __future__ import annotations

from typing import Any

#: Django database backends -> the SQLAlchemy URL scheme npa's providers serve
BACKENDS = {
    "django.db.backends.postgresql": "postgresql+psycopg",
    "django.db.backends.mysql": "mysql+pymysql",
    "django.db.backends.sqlite3": "sqlite",
    "django.db.backends.oracle": "oracle+oracledb",
}


def database_url(settings: dict[str, Any]) -> Any:
    """The SQLAlchemy URL of a Django ``DATABASES`` entry (a backend npa knows)."""
    import sqlalchemy as sa

    from ...errors import ConfigurationError

    engine = settings.get("ENGINE", "")
    scheme = BACKENDS.get(engine)
    if scheme is None:
        raise ConfigurationError(
            f"DATABASES['default'] uses {engine!r}, which npa cannot map to a URL. Set "
            "NPA_DATABASE_URL in the Django settings.")
    if scheme == "sqlite":
        return sa.engine.URL.create("sqlite", database=str(settings.get("NAME") or ""))
    return sa.engine.URL.create(
        scheme, username=settings.get("USER") or None, password=settings.get("PASSWORD") or None,
        host=settings.get("HOST") or None, port=int(settings["PORT"]) if settings.get("PORT")
        else None, database=settings.get("NAME") or None)
