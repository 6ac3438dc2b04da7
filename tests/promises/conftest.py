"""What every promise test needs: the seeded projects, a frozen clock, filing through the site and
claiming a project through the invitation its security contact receives.
"""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.management import call_command

from mailer.models import OutboundEmail
from projects.models import Project
from reports.models import Report
from tests.factories import UserFactory
from tests.signin import Client

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)  # every seed policy is in force


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seeded(db):
    call_command("seed_projects", stdout=io.StringIO())
    return {project.slug: project for project in Project.objects.all()}


def signed_in(user):
    client = Client()
    client.sign_in(user)
    return client


def file_through_the_form(client, slug, fields):
    response = client.post(f"/projects/{slug}/report/", fields)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Report.objects.latest("pk")


def mail_to(address, *, about=None):
    rows = OutboundEmail.objects.filter(to=address)
    if about is not None:
        rows = rows.filter(about=f"reports.report:{about.pk}")
    return list(rows.order_by("pk"))


def claim(project, address):
    """The security contact follows the claim link it was sent, signed in with that address."""
    (invitation,) = [m for m in mail_to(address) if "/projects/invitations/" in m.body]
    path = re.search(r"https?://[^/\s]+(/projects/invitations/[^/\s]+/)", invitation.body)[1]
    contact = UserFactory(email=address)
    client = Client()
    client.force_login(contact)  # not a member yet: no second factor is asked for
    response = client.post(path)
    assert response.status_code == 302, response.content.decode()[:2000]
    return contact
