"""End-of-support reminders: a project's members hear, once, that a series of the matrix in force
reaches its end of support within END_OF_SUPPORT_NOTICE_DAYS; while it has no active member, its
security contact does (what the notice says is on the public policy page anyway).

Registered with the reminder sweep by the glue (disclosure.apps); this app is the ground floor and
knows nothing of reports.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from mailer import outbox
from mailer.models import reference
from projects.access import TRIAGER, member_roles, who_hears
from projects.models import EndOfSupportNotice, SupportedVersion


class EndOfSupportReminders:
    """Not about a report: swept on its own, by date, from the version matrices."""

    name = "end_of_support"

    def sweep(self, *, now):
        """Notify members of series ending within the notice period; returns how many series."""
        today = timezone.localdate(now)
        horizon = today + datetime.timedelta(days=settings.END_OF_SUPPORT_NOTICE_DAYS)
        with transaction.atomic():
            candidates = (
                SupportedVersion.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(supported=True, end_of_support__gte=today, end_of_support__lte=horizon,
                        end_of_support_notice__isnull=True, revision__project__active=True)
                # A later revision repeating the series and date was already announced.
                .exclude(Exists(EndOfSupportNotice.objects.filter(
                    version__revision__project=OuterRef("revision__project"),
                    version__series=OuterRef("series"),
                    version__end_of_support=OuterRef("end_of_support"))))
                .select_related("revision__project")
            )  # fmt: skip
            due = [
                version
                for version in candidates
                if version.revision.project.revision_in_force(on=today) == version.revision
            ]
            if not due:
                return 0
            members = member_roles({version.revision.project_id for version in due})
            messages = []
            for version in due:
                project = version.revision.project
                to, contact = who_hears(project, members[project.pk], minimum=TRIAGER)
                messages += outbox.compose(
                    "end_of_support",
                    to=[*to, contact],
                    subject=f"[{project.name}] {version.series} reaches its end of support on "
                    f"{version.end_of_support:%Y-%m-%d}",
                    context={
                        "project": project,
                        "version": version,
                        "url": settings.SITE_URL + reverse("projects:detail", args=[project.slug]),
                    },
                    about=reference(version),
                )
            outbox.send(messages)
            EndOfSupportNotice.objects.bulk_create(
                [EndOfSupportNotice(version=version, sent_at=now) for version in due]
            )
        return len(due)


END_OF_SUPPORT = EndOfSupportReminders()
