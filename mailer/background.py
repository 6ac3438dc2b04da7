"""Starting Celery tasks after commit, by name.

Services must not import task modules (tasks import services: a cycle), so they name the task.
The name is resolved to the registered task (the glue imports every app's tasks at start-up), and
the task's own `delay` honours eager mode: with no broker configured (the embedded default) the
task runs in-process. `app.send_task` would ignore eager mode and try to reach a broker.
"""

from functools import partial

from celery import current_app
from django.db import transaction


def enqueue_on_commit(task_name, *args):
    """Run the task once the current transaction commits (at once outside a transaction).

    robust: a broker that is down must not fail a request that already committed; the periodic
    sweeps (beat) pick up whatever the task would have done.
    """
    task = current_app.tasks[task_name]  # KeyError: a misspelt or unregistered task name
    transaction.on_commit(partial(task.delay, *args), robust=True)
