"""Disclosure-date reminders: the project's maintainers and admins hear a week and a day before a
report's disclosure date, and when it passes unpublished, so that the advisory is published on
time or a new date agreed (the security contact, while the project has nobody who may publish).

Planned here, registered with reports' reminder sweep by the glue (disclosure.apps).
"""

import datetime

from django.db import models

from advisories.models import Disclosure
from projects.access import MAINTAINER
from reports.models import CLOSED_STATES
from reports.reminders import Audience, Planned, ReminderKind

WARNINGS = {7: "disclosure_warning", 1: "disclosure_tomorrow"}  # days before -> kind


class Kind(models.TextChoices):
    DISCLOSURE_WARNING = "disclosure_warning", "Disclosure date in a week"
    DISCLOSURE_TOMORROW = "disclosure_tomorrow", "Disclosure date tomorrow"
    DISCLOSURE_DUE = "disclosure_due", "Disclosure date reached"


class DisclosureReminders:
    # Those who may act on the date: propose another or publish (advisories.access).
    kinds = {
        kind: ReminderKind(
            kind.label, Audience.MEMBERS, template="disclosure_reminder", minimum=MAINTAINER
        )
        for kind in Kind
    }

    def plan(self, report, *, now):
        """Reminders of the disclosure date while the report is open or fixed; a paused report
        keeps its date (waiting for the reporter does not move it).
        """
        if report.state in CLOSED_STATES:
            return []
        due = Disclosure.objects.filter(pk=report.pk).values_list("due", flat=True).first()
        if due is None:
            return []
        plan = []
        for days, kind in WARNINGS.items():
            warn_at = due - datetime.timedelta(days=days)
            if warn_at > now:
                plan.append(Planned(kind, due, warn_at))
        plan.append(Planned(Kind.DISCLOSURE_DUE, due, due))
        return plan


DISCLOSURE = DisclosureReminders()
