"""What every benchmark needs: a database of its own and Django set up against it.

Imported by the scripts beside it (run as `python benchmarks/<script>.py`).
"""

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def private_database(name):
    """Point DATABASE_URL at a database of our own, `name` on the configured PostgreSQL server
    (else a throwaway SQLite file); returns a function that removes it."""
    configured = os.environ.get("DATABASE_URL", "")
    if urlsplit(configured).scheme in {"postgres", "postgresql", "pgsql"}:
        import psycopg

        parts = urlsplit(configured)
        if parts.path.lstrip("/") == name:
            sys.exit(f"DATABASE_URL already names {name}; point it at another database")
        server = urlunsplit(parts._replace(path="/postgres", query=""))

        def admin(statement):
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(statement)

        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        return lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    handle, path = tempfile.mkstemp(prefix="disclosure-bench-", suffix=".sqlite3", dir="/tmp")
    os.close(handle)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return lambda: Path(path).unlink(missing_ok=True)


def set_up_django():
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "disclosure.settings")
    os.environ.pop("CELERY_BROKER_URL", None)  # tasks in-process; no broker needed
    os.environ.pop("EMAIL_URL", None)
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DATABASE_CONN_MAX_AGE"] = "0"
    import django

    django.setup()
    from django.conf import settings

    # Production does not keep every query in memory; DJANGO_DEBUG=1 is only for the secret key.
    settings.DEBUG = False


def run_on_own_database(name, run):
    """Create the database `name`, set Django up on it, `run()`, and remove it whatever happens."""
    remove = private_database(name)
    try:
        set_up_django()
        run()
    finally:
        from django.db import connections

        connections.close_all()
        remove()
