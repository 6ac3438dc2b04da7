"""`manage.py check_heartbeat`: the beat container's health check (docker-compose.yml)."""

from django.core.management.base import BaseCommand, CommandError

from disclosure import health


class Command(BaseCommand):
    help = (
        "Exit 0 when the beat heartbeat (sent by beat every minute, run by a worker) is younger "
        "than HEALTH_BEAT_MAX_AGE, 1 otherwise."
    )

    def handle(self, *args, **options):
        beat = health.beat_status()
        if not beat["expected"]:
            raise CommandError("no broker is configured (CELERY_BROKER_URL): no beat runs")
        # Unlike /health/, no start-up grace here: the check's own process just started, and the
        # container's start_period already covers the first minutes.
        if beat["last_sweep_at"] is None:
            raise CommandError("no beat heartbeat yet: is a worker of the celery queue running?")
        if not beat["ok"]:
            raise CommandError(
                f"the last beat heartbeat is {beat['age_seconds']} s old "
                f"(HEALTH_BEAT_MAX_AGE): is beat, or a worker of the celery queue, running?"
            )
        self.stdout.write(f"beat heartbeat {beat['age_seconds']} s ago")
