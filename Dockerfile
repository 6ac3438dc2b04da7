# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
# Debian's gpg (with gpg-agent and gpgconf) for OpenPGP: reporters' encrypted notifications and
# the decryption of encrypted inbound mail (mailer.openpgp, through python-gnupg).
# pg_dump and pg_restore for `manage.py backup` / `restore` (disclosure.backup), in the major
# version of the compose file's postgres image (pg_dump refuses a newer server): from the
# PostgreSQL project's Debian repository, set up by Debian's own postgresql-common script.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gnupg postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*
# Only what the image runs, by name (.dockerignore lets nothing else into the build context):
# the package with every app before `pip install .`, then what manage.py serves.
COPY pyproject.toml README.md ./
COPY disclosure ./disclosure
COPY projects ./projects
COPY mailer ./mailer
COPY reports ./reports
COPY advisories ./advisories
COPY inbox ./inbox
COPY api ./api
COPY webhooks ./webhooks
RUN pip install .
COPY manage.py ./
COPY templates ./templates
COPY static ./static

RUN useradd --system --home-dir /app --shell /usr/sbin/nologin disclosure \
    && mkdir -p /app/var /app/staticfiles \
    && chown -R disclosure /app/var /app/staticfiles
USER disclosure

# collectstatic needs settings but no secret of the deployment.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "disclosure.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
