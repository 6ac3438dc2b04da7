"""The glue's own state: the heartbeat of the periodic sweeps, read by /health/."""

from django.db import models


class Heartbeat(models.Model):
    """When a named periodic signal last ran. "beat" is written by the beat-scheduled heartbeat
    task (disclosure.tasks), run by a worker on the sweeps' queue: a fresh row says beat sends
    the sweeps and a worker runs them; a stale one that one of the two is dead.
    """

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
