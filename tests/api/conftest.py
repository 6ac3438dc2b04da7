"""The API's world: the cast of tests/conftest.py, each with a write token, and one report of
the project seen from every side (shared with the collaborator, triaged, with an internal note,
an internal severity override, an assignment, an attachment and an advisory draft).
"""

import dataclasses
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from advisories import services as advisory_services
from api import services as token_services
from projects.models import Membership
from reports import services as report_services
from tests.advisories.publishing import publish_now
from tests.factories import MembershipFactory, SupportedVersionFactory, UserFactory

# Strings only members may ever read; the reporter side's responses must not hold them.
INTERNAL_NOTE = "INTERNAL-NOTE-only-members-read-this"
OVERRIDE_REASON = "OVERRIDE-REASON-only-members-read-this"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"
    return settings.ATTACHMENT_ROOT


def make_token(user, *, scope="write", project=None, days=30):
    """A token of `user` (made as the account page makes it, after the second factor)."""
    return token_services.create_token(
        user=user,
        name=f"token of {user.email}",
        scope=scope,
        expires_on=timezone.localdate() + datetime.timedelta(days=days),
        project=project,
        second_factor_passed=True,
    )


def client_for(user, **token_options):
    """An API client sending `user`'s token (anonymous: None)."""
    client = APIClient()
    if user is not None:
        secret = make_token(user, **token_options).secret
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@dataclasses.dataclass
class ApiWorld:
    project: object
    report: object
    attachment: object
    advisory: object
    spare: object  # a triager of the project whose role the admins change
    published: object  # another report, disclosed with a published advisory


def file(project, reporter, title="Heap overflow in the parser"):
    fields = {
        "title": title,
        "description": "The parser overflows.",
        "steps_to_reproduce": "Send a long header.",
    }
    return report_services.file_report(project=project, reporter=reporter, fields=fields)


@pytest.fixture
def api_world(project, reporter, collaborator, triager, maintainer, project_admin):
    revision = project.revisions.get()
    SupportedVersionFactory(revision=revision, series="1.x")
    report = file(project, reporter)
    invitation = report_services.invite_collaborator(
        report=report, by=reporter, email=collaborator.email
    )
    report_services.accept_invitation(token=invitation.token, user=collaborator)
    report_services.add_attachments(
        report=report, by=reporter, files=[SimpleUploadedFile("poc.txt", b"proof\n")]
    )
    report_services.add_comment(
        report=report, by=reporter, body="Any news?", internal=False, by_member=False
    )
    report_services.add_comment(
        report=report, by=triager, body=INTERNAL_NOTE, internal=True, by_member=True
    )
    report_services.transition(
        report=report, by=maintainer, name="triage", message="Confirmed.", severity="high"
    )
    report_services.set_cvss_vector(
        report=report, by=maintainer, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
    )
    report_services.set_severity(
        report=report, by=maintainer, severity="critical", override_reason=OVERRIDE_REASON
    )
    report_services.assign(report=report, by=maintainer, assignee=maintainer)
    advisory = advisory_services.draft_advisory(report=report, by=maintainer)
    spare = MembershipFactory(
        project=project, user=UserFactory(email="spare@example.org"), role=Membership.Role.TRIAGER
    )
    other_reporter = UserFactory(email="finder@example.org")
    published = file(project, other_reporter, title="Auth bypass")
    report_services.set_credit(
        report=published, by=other_reporter, display="handle", handle="@finder"
    )
    report_services.transition(
        report=published, by=maintainer, name="triage", message="Yes.", severity="medium"
    )
    report_services.transition(report=published, by=maintainer, name="mark_fixed", message="")
    draft = advisory_services.draft_advisory(report=published, by=maintainer)
    draft = advisory_services.update_advisory(
        advisory=draft,
        by=maintainer,
        fields={"fixed_versions": ["1.0.1"], "affected_series": ["1.x"]},
    )
    publish_now(draft, by=maintainer)
    report.refresh_from_db()
    return ApiWorld(
        project=project,
        report=report,
        attachment=report.attachments.get(),
        advisory=advisory,
        spare=spare,
        published=draft,
    )
