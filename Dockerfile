# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
# Debian's gpg (with gpg-agent and gpgconf) for OpenPGP: reporters' encrypted notifications and
# the decryption of encrypted inbound mail (mailer.openpgp, through python-gnupg).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gnupg \
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
