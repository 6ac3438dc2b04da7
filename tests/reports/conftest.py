import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mailer.models import OutboundEmail
from reports import services
from reports.models import Reminder
from tests.factories import SupportedVersionFactory


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    return settings.ATTACHMENT_ROOT


@pytest.fixture
def version(project):
    return SupportedVersionFactory(revision=project.revisions.get(), series="2.x")


def file(reporter_user, project, **fields):
    values = {
        "title": "Heap overflow in the parser",
        "description": "The parser overflows.",
        "steps_to_reproduce": "Send a long header.",
        **fields,
    }
    return services.file_report(project=project, reporter=reporter_user, fields=values)


def share(report, *, by, with_user):
    """`by` invites `with_user`'s address and they accept, as through the emailed link."""
    invitation = services.invite_collaborator(report=report, by=by, email=with_user.email)
    return services.accept_invitation(token=invitation.token, user=with_user)


@pytest.fixture
def report(project, reporter, collaborator, maintainer, triager):
    filed = file(reporter, project)
    share(filed, by=reporter, with_user=collaborator)
    filed.refresh_from_db()
    # The setup's own notifications are not under test: tests see only what they cause.
    OutboundEmail.objects.all().delete()
    return filed


@pytest.fixture
def poc_file():
    return SimpleUploadedFile("poc.py", b"print('pwned')\n", content_type="text/x-python")


def reminder_emails():
    """(outbox row, the Reminder it was written for) of every reminder email, oldest first; the
    outbox names the reminder in its dedup key ("reports.reminder:<pk>:<address>").
    """
    rows = list(OutboundEmail.objects.filter(dedup_key__startswith="reports.reminder:"))
    ids = {int(row.dedup_key.split(":")[1]) for row in rows}
    found = Reminder.objects.in_bulk(ids)
    return [(row, found[int(row.dedup_key.split(":")[1])]) for row in sorted(rows, key=id_of)]


def id_of(row):
    return row.pk
