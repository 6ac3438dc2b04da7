"""The glue as an installed app: it wires the apps together at start-up, so that no app reaches
up into another (DESIGN §1), and owns the one `seed_projects` command.
"""

from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = "Disclosure platform"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from advisories import publication
        from advisories import reminders as advisory_reminders
        from advisories import services as advisory_services
        from disclosure.auth import read_session_here
        from disclosure.celery import app
        from disclosure.pgtime import install as read_timestamps_fast
        from projects import reminders as project_reminders
        from reports import extensions
        from reports import reminders as report_reminders

        # A new session's user is read with their roles, in one query (disclosure/auth.py).
        user_logged_in.connect(read_session_here, dispatch_uid="disclosure.auth")
        # PostgreSQL's timestamps read by the standard library's parser (disclosure/pgtime.py).
        read_timestamps_fast()

        # Every app that reminds people of dates; the beat sweep (reports.sweep) reads these.
        extensions.register_reminders(report_reminders.SLA)
        extensions.register_reminders(advisory_reminders.DISCLOSURE)
        extensions.register_reminders(project_reminders.END_OF_SUPPORT)
        # Scheduled advisories are published by the same sweep, on their disclosure date.
        extensions.register_reminders(publication.SCHEDULED_PUBLICATIONS)
        # What the apps above reports keep per report exists from the moment it is filed.
        extensions.register_intake(advisory_services.start_disclosure)
        # Register every app's tasks now, so services can start them by name (including in
        # eager mode, where nothing else imports the task modules).
        app.autodiscover_tasks(force=True)
