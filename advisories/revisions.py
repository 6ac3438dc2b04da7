"""Revisions of a published advisory: amending it and withdrawing it.

A published advisory never changes in place: each change is a revision (AdvisoryRevision) with
its reason, numbered after the publication (revision 1), and the advisory's `revised_at` moves
with it (the exports' "modified"/"dateUpdated"/current release date, the feed's "updated"). A
withdrawn advisory stays public with its notice and is final. Who may revise is the site's rule
for editing (amend) and publishing (withdraw), advisories.access.

Like the other disclosure services (advisories.services), each runs in one transaction on the
locked report and advisory, writes the report's audit event and notifies the report's
participants through it. Kept beside services.py, not in it, so the module stays under the
house's size limit.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from advisories.models import REVISED_FIELDS, AdvisoryRevision
from advisories.services import (
    ADVISORY_FIELDS,
    AdvisoryError,
    _event,
    _locked_advisory,
    take_report_cvss,
)


def _revisable(advisory):
    refusal = advisory.revision_refusal()
    if refusal:
        raise AdvisoryError(refusal)


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise AdvisoryError("Give the reason for the revision: it is published with it.")
    return reason


def _snapshot(advisory):
    """The revised fields as JSON values (a score is a Decimal in the model)."""
    values = {}
    for name in REVISED_FIELDS:
        value = getattr(advisory, name)
        values[name] = str(value) if isinstance(value, Decimal) else value
    return values


def _record(advisory, *, by, kind, reason, changes, now):
    last = advisory.revisions.aggregate(last=Max("number"))["last"] or 1
    return AdvisoryRevision.objects.create(
        advisory=advisory,
        number=last + 1,
        kind=kind,
        reason=reason,
        changes=changes,
        created_by=by,
        created_at=now,
    )


@transaction.atomic
def amend(*, advisory, by, fields, reason):
    """Amend a published advisory: the draft form's fields (`fields`, as update_advisory takes
    them) and the report's CVSS as it is now. Records a revision with the reason and what
    changed ({field: {"from", "to"}}); an amendment that changes nothing is refused.
    """
    advisory = _locked_advisory(advisory)
    _revisable(advisory)
    reason = _reason(reason)
    before = _snapshot(advisory)
    for name in ADVISORY_FIELDS:
        if name in fields:
            setattr(advisory, name, fields[name])
    take_report_cvss(advisory)
    after = _snapshot(advisory)
    changes = {
        name: {"from": before[name], "to": after[name]}
        for name in REVISED_FIELDS
        if before[name] != after[name]
    }
    if not changes:
        raise AdvisoryError("Nothing changed: an amendment changes the advisory or its CVSS.")
    advisory.full_clean(exclude=["report", "project", "identifier"])
    now = timezone.now()
    advisory.revised_at = now
    advisory.save()
    revision = _record(
        advisory, by=by, kind=AdvisoryRevision.Kind.AMENDED, reason=reason, changes=changes, now=now
    )
    _event(
        advisory.report,
        by=by,
        public=True,
        message=f"Advisory {advisory.identifier} amended (revision {revision.number}): {reason}",
    )
    return revision


@transaction.atomic
def withdraw(*, advisory, by, reason):
    """Withdraw a published advisory: it stays public with the notice (date and reason) and is
    never amended again. The withdrawal is a revision too.
    """
    advisory = _locked_advisory(advisory)
    _revisable(advisory)
    reason = _reason(reason)
    now = timezone.now()
    advisory.withdrawn_at = advisory.revised_at = now
    advisory.withdrawn_reason = reason
    advisory.save(update_fields=["withdrawn_at", "withdrawn_reason", "revised_at", "updated_at"])
    revision = _record(
        advisory, by=by, kind=AdvisoryRevision.Kind.WITHDRAWN, reason=reason, changes={}, now=now
    )
    _event(
        advisory.report,
        by=by,
        public=True,
        message=f"Advisory {advisory.identifier} withdrawn (revision {revision.number}): {reason}",
    )
    return revision
