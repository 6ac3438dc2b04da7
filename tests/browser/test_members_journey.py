"""A project admin invites a maintainer on the members page; the invitee accepts from the emailed
link, meets the second-factor gate as every new member does, and appears as maintainer.
"""

import re

import pytest
from playwright.sync_api import expect

from projects.models import Membership
from tests.browser.helpers import QUEUE_NAV, follow_nav, sent_emails, sign_in
from tests.factories import MembershipFactory, PolicyRevisionFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

INVITEE = "invitee@example.org"


def test_an_admin_invites_a_maintainer_who_accepts_from_the_emailed_link(
    page, live_server, mailoutbox
):
    project = ProjectFactory(slug="acme", name="Acme", tracking_prefix="ACME")
    PolicyRevisionFactory(project=project)
    admin = MembershipFactory(
        project=project, user=UserFactory(email="admin@acme.example"), role=Membership.Role.ADMIN
    ).user
    invitee = UserFactory(email=INVITEE)  # signed up already, address verified

    # The admin finds the members page from the project page and invites by address and role.
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/projects/acme/")
    page.get_by_role("link", name="Members and invitations").click()
    expect(page.get_by_role("heading", name="Members of Acme")).to_be_visible()
    expect(page.get_by_text("Everything a triager does")).to_be_visible()  # roles explained
    # The invitation form's fields (required: crispy marks them "*"), not a member row's role.
    page.get_by_label("Email*", exact=True).fill(INVITEE)
    page.get_by_label("Role*", exact=True).select_option(label="Maintainer")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(f"An invitation was sent to {INVITEE}")).to_be_visible()
    expect(page.get_by_role("cell", name=INVITEE, exact=True)).to_be_visible()  # pending
    page.get_by_role("button", name="Sign out").click()

    # The invitee follows the link from the email, signed in, and accepts.
    (email,) = sent_emails(mailoutbox, to=INVITEE, subject="invited to join as maintainer")
    link = re.search(r"https?://\S+/projects/invitations/[\w-]+/", email.body)[0]
    sign_in(page, live_server, invitee)
    page.goto(link)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_text("You are maintainer of Acme")).to_be_visible()
    # A member now: a second factor before anything internal (expected).
    expect(page.get_by_text("need a second factor")).to_be_visible()
    assert Membership.objects.get(user=invitee).role == Membership.Role.MAINTAINER
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, invitee)  # password and a second factor, as members do
    follow_nav(page, QUEUE_NAV)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The admin sees them as maintainer, and the history says who did what.
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/projects/acme/members/")
    expect(page.get_by_label(f"Role of {INVITEE}")).to_have_value("maintainer")
    expect(page.get_by_text(f"{INVITEE} accepted the invitation")).to_be_visible()
