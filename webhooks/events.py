"""The events webhooks send, read from the records the services already write.

Two sources, each read by id (WebhookCursor): the audit trail (reports.ReportEvent: report filed,
state changed, deadline overdue, and the "disclosed" transition, which only publishing the
advisory makes: advisory published) and the comments (reports.Comment). Nothing here is written
by the services for webhooks' sake: an event is a row they wrote anyway.

An event's id is a UUID derived from its row and type: the same at every attempt and every
redelivery, different for the two events one "disclosed" transition makes.
"""

import dataclasses
import uuid

from django.conf import settings
from django.urls import reverse

from reports.models import Comment, ReportEvent, State
from webhooks.models import EventType

NAMESPACE = uuid.UUID("3f0c8f62-6a55-4c1e-9d7e-2b1f0e6c9a41")


@dataclasses.dataclass(frozen=True)
class Event:
    id: uuid.UUID
    type: str
    project_id: int
    created_at: object
    internal: bool  # an internal comment: internal hooks only
    payload: dict


def event_id(source, pk, event_type):
    return uuid.uuid5(NAMESPACE, f"{source}:{pk}:{event_type}")


def _report(report):
    return {
        "tracking_id": report.tracking_id,
        "title": report.title,
        "state": report.state,
        "severity": report.severity,
        "url": settings.SITE_URL + reverse("reports:detail", args=[report.tracking_id]),
    }


def _envelope(source, row, event_type, report, data):
    identifier = event_id(source, row.pk, event_type)
    return {
        "id": str(identifier),
        "type": str(event_type),
        "created_at": row.created_at.isoformat(),
        "project": {"slug": report.project.slug, "name": report.project.name},
        "report": _report(report),
        **data,
    }


def _actor(row, *, author_field):
    """Who acted, as the reporter side sees it: the project, the reporter side, the platform."""
    if getattr(row, author_field) is None:
        return "platform"
    return "project" if row.by_member else "reporter"


class AuditTrail:
    """ReportEvent rows: filed, state changed (and advisory published), deadline overdue."""

    name = "report_event"
    model = ReportEvent

    def rows(self, ids):
        return (
            ReportEvent.objects.filter(pk__in=ids)
            .select_related("report__project", "report__advisory")
            .order_by("pk")
        )

    def events(self, row):
        report = row.report
        if row.kind == ReportEvent.Kind.CREATED:
            yield self._event(
                row, EventType.REPORT_FILED, {"by": _actor(row, author_field="actor")}
            )
        elif row.kind == ReportEvent.Kind.TRANSITION:
            change = {
                "from_state": row.from_state,
                "to_state": row.to_state,
                "message": row.message if row.public else "",
                "by": _actor(row, author_field="actor"),
            }
            yield self._event(row, EventType.STATE_CHANGED, {"change": change})
            advisory = getattr(report, "advisory", None)
            if row.to_state == State.DISCLOSED and advisory is not None:
                yield self._event(
                    row, EventType.ADVISORY_PUBLISHED, {"advisory": _advisory(advisory)}
                )
        elif row.kind == ReportEvent.Kind.DEADLINE_OVERDUE:
            deadline = {
                "deadline": row.data.get("deadline", ""),
                "due_at": row.data.get("due_at", ""),
                "label": row.message,
            }
            yield self._event(row, EventType.DEADLINE_OVERDUE, {"deadline": deadline})

    def _event(self, row, event_type, data):
        return Event(
            id=event_id(self.name, row.pk, event_type),
            type=event_type,
            project_id=row.report.project_id,
            created_at=row.created_at,
            internal=False,
            payload=_envelope(self.name, row, event_type, row.report, data),
        )


def _advisory(advisory):
    return {
        "identifier": advisory.identifier,
        "title": advisory.title,
        "summary": advisory.summary,
        "cve_id": advisory.cve_id,
        "ghsa_id": advisory.ghsa_id,
        "published_at": advisory.published_at.isoformat() if advisory.published_at else None,
        "url": settings.SITE_URL + reverse("advisories:advisory_page", args=[advisory.identifier]),
    }


class Comments:
    """Comment rows: public ones to every hook that subscribed, internal ones to internal hooks."""

    name = "comment"
    model = Comment

    def rows(self, ids):
        return Comment.objects.filter(pk__in=ids).select_related("report__project").order_by("pk")

    def events(self, row):
        comment = {
            "id": row.pk,
            "internal": row.internal,
            "body": row.body,
            "by": _actor(row, author_field="author"),
        }
        yield Event(
            id=event_id(self.name, row.pk, EventType.COMMENT),
            type=EventType.COMMENT,
            project_id=row.report.project_id,
            created_at=row.created_at,
            internal=row.internal,
            payload=_envelope(self.name, row, EventType.COMMENT, row.report, {"comment": comment}),
        )


SOURCES = (AuditTrail(), Comments())
