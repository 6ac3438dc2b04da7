"""Operations tasks of the glue. The heartbeat is beat-scheduled with the sweeps, on their queue."""

from celery import shared_task

from disclosure import health


@shared_task
def beat_heartbeat():
    health.record_beat()
