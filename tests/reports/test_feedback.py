"""What the report page says: the policy's labels, one success message after every post, and a
closed report that no longer offers what it no longer takes.
"""

import html

import pytest

from advisories import services as advisory_services
from advisories.models import ChecklistTemplate
from reports import services
from reports.models import State
from tests.factories import PolicyRevisionFactory, ProjectFactory
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def page_of(client, report):
    response = client.get(f"/reports/{report.tracking_id}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def sign_in(client, user):
    """Sign in and read the sign-in message away, so that each post's own messages are left."""
    client.sign_in(user)
    client.get("/")


def posted(client, path, data=None):
    """POST, follow the redirect, and return the page's success and error messages."""
    response = client.post(path, data or {}, follow=True)
    assert response.status_code == 200
    found = [(m.level_tag, str(m)) for m in response.context["messages"]]
    return [text for level, text in found if level == "success"], [
        text for level, text in found if level == "error"
    ]


# --- Labels -------------------------------------------------------------------------------------


def test_extra_fields_read_with_the_labels_the_policy_gives_them(client, reporter, maintainer):
    project = ProjectFactory(slug="router", name="Router", tracking_prefix="RTR")
    PolicyRevisionFactory(
        project=project,
        intake_extra_fields=[
            {"name": "os", "label": "Operating system", "required": True},
            {"name": "nodejs_version", "label": "Node.js version", "required": True},
        ],
    )
    report = file(reporter, project, extra_fields={"nodejs_version": "20.11", "os": "Alpine"})
    sign_in(client, reporter)
    page = page_of(client, report)
    assert "<dt>Operating system</dt><dd>Alpine</dd>" in page
    assert "<dt>Node.js version</dt><dd>20.11</dd>" in page
    assert "Nodejs_version" not in page
    assert "<dt>Os</dt>" not in page


def test_an_answer_the_policy_no_longer_names_keeps_a_readable_name(reporter, project):
    report = file(reporter, project, extra_fields={"aws_region": "eu-west-1"})
    assert report.extra_field_items() == [("Aws region", "eu-west-1")]


# --- Success messages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "start", "expected"),
    [
        ("acknowledge", {}, (), "Acknowledged"),
        ("triage", {"severity": "high"}, (), "Triaged"),
        ("request_info", {}, (), "Information requested"),
        ("close", {"resolution": "spam"}, (), "Closed as spam."),
        ("start_fix", {}, (("triage", {"severity": "high"}),), "Marked as being fixed."),
        ("mark_fixed", {}, (("triage", {"severity": "high"}),), "Marked fixed."),
        ("reopen", {}, (("close", {"resolution": "spam"}),), "Reopened: the report is new again."),
    ],
)
def test_every_transition_says_what_it_did(client, report, maintainer, name, data, start, expected):
    for earlier, options in start:
        services.transition(
            report=report, by=maintainer, name=earlier, message="Earlier.", **options
        )
    sign_in(client, maintainer)
    done, errors = posted(
        client,
        f"/reports/{report.tracking_id}/transitions/{name}/",
        {"message": "Looked at it.", **data},
    )
    assert errors == []
    assert len(done) == 1
    assert done[0].startswith(expected)


def test_the_reporter_is_told_when_the_information_is_sent_and_when_they_withdraw(
    client, report, reporter, maintainer
):
    services.transition(report=report, by=maintainer, name="request_info", message="Which OS?")
    sign_in(client, reporter)
    done, _ = posted(
        client,
        f"/reports/{report.tracking_id}/transitions/provide_info/",
        {"message": "Debian 12."},
    )
    assert done == ["Your information is sent; the report is back with the maintainers."]
    done, _ = posted(
        client,
        f"/reports/{report.tracking_id}/transitions/withdraw/",
        {"message": "Not a bug after all."},
    )
    assert done == ["The report is withdrawn."]


def test_a_refused_transition_shows_the_error_and_no_success(client, report, maintainer):
    sign_in(client, maintainer)
    done, errors = posted(
        client, f"/reports/{report.tracking_id}/transitions/request_info/", {"message": " "}
    )
    assert done == []
    assert errors


def test_comments_cvss_and_uploads_say_what_happened(client, report, maintainer, poc_file):
    sign_in(client, maintainer)
    base = f"/reports/{report.tracking_id}"
    assert posted(client, f"{base}/comment/", {"body": "On it."})[0] == ["Comment posted."]
    assert posted(client, f"{base}/comment/", {"body": "Bad.", "internal": "on"})[0] == [
        "Internal note posted: only members see it."
    ]
    assert posted(client, f"{base}/cvss/", {"vector": VECTOR})[0] == [f"CVSS vector set: {VECTOR}."]
    assert posted(client, f"{base}/attachments/", {"attachments": poc_file})[0] == [
        "Uploaded: poc.py."
    ]


def test_the_disclosure_panel_posts_say_what_happened(client, report, maintainer, reporter):
    services.transition(
        report=report, by=maintainer, name="triage", message="Real.", severity="high"
    )
    sign_in(client, maintainer)
    base = f"/reports/{report.tracking_id}"
    done, errors = posted(
        client, f"{base}/disclosure/", {"date": "2031-05-04", "reason": "The fix ships."}
    )
    assert errors == []
    assert done == ["Disclosure date proposed: 2031-05-04. The reporter is asked to agree."]
    done, _ = posted(
        client, f"{base}/fix-release/", {"fix_version": "2.0.1", "released_on": "2031-04-30"}
    )
    assert done == ["Fixed release recorded: 2.0.1, released on 2031-04-30."]
    ChecklistTemplate.objects.create(
        project=report.project, phases=[{"title": "Assess", "tasks": ["Reproduce"], "fields": []}]
    )
    done, errors = posted(client, f"{base}/checklist/start/")
    assert (done, errors) == (["Incident checklist started."], [])
    done, _ = posted(client, f"{base}/advisory/")
    assert done == ["Advisory drafted."]
    done, _ = posted(client, f"{base}/advisory/share/")
    assert done == ["The advisory is shared with the reporter for review."]

    proposal = report.disclosure_proposals.get()
    sign_in(client, reporter)
    done, _ = posted(
        client, f"{base}/disclosure/{proposal.pk}/respond/", {"agree": "yes", "response": "OK"}
    )
    assert done == ["You agreed to the disclosure date 2031-05-04."]
    done, _ = posted(client, f"{base}/advisory/approve/")
    assert done == ["You approved the advisory; the maintainers are told."]


# --- Closed reports -----------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["spam", "withdrawn"])
def test_a_closed_report_offers_no_upload_no_invitation_and_refuses_both(
    client, report, reporter, maintainer, poc_file, resolution
):
    if resolution == "withdrawn":
        services.transition(report=report, by=reporter, name="withdraw", message="Mistake.")
    else:
        services.transition(
            report=report, by=maintainer, name="close", message="Spam.", resolution=State.SPAM
        )
    for who in (reporter, maintainer):
        sign_in(client, who)
        page = page_of(client, report)
        assert f"/reports/{report.tracking_id}/attachments/" not in page
        assert f'"/reports/{report.tracking_id}/collaborators/"' not in page
        assert "advisory draft" not in page
        assert "No disclosure is planned" in page
        response = client.post(
            f"/reports/{report.tracking_id}/attachments/", {"attachments": poc_file}
        )
        assert response.status_code == 403
        response = client.post(
            f"/reports/{report.tracking_id}/collaborators/", {"email": "friend@example.org"}
        )
        assert response.status_code == 403
    assert report.attachments.count() == 0
    assert report.invitations.filter(email="friend@example.org").count() == 0


def test_an_open_report_offers_upload_and_invitation_and_promises_the_draft(
    client, report, reporter
):
    sign_in(client, reporter)
    page = page_of(client, report)
    assert f"/reports/{report.tracking_id}/attachments/" in page
    assert f'"/reports/{report.tracking_id}/collaborators/"' in page
    assert "The maintainers will share the advisory draft with you for review." in page


def test_a_closed_report_can_still_lose_a_collaborator(client, report, maintainer, collaborator):
    services.transition(
        report=report, by=maintainer, name="close", message="Spam.", resolution=State.SPAM
    )
    sign_in(client, maintainer)
    done, _ = posted(
        client, f"/reports/{report.tracking_id}/collaborators/{collaborator.pk}/remove/"
    )
    assert done == ["The collaborator no longer sees the report."]
    assert not services.collaborators(report).exists()


def test_the_advisory_form_reads_cwe_ghsa_id_and_cve_id(client, report, maintainer):
    services.transition(
        report=report, by=maintainer, name="triage", message="Real.", severity="high"
    )
    advisory_services.draft_advisory(report=report, by=maintainer)
    sign_in(client, maintainer)
    response = client.get(f"/reports/{report.tracking_id}/advisory/")
    page = " ".join(html.unescape(response.content.decode()).split())
    for name, label in (("cwe", "CWE"), ("ghsa_id", "GHSA ID"), ("cve_id", "CVE ID")):
        assert f'for="id_{name}" class="form-label"> {label} </label>' in page, label
    for wrong in ("Cwe", "Ghsa id", "Cve id"):
        assert wrong not in page


def test_the_admin_names_advisories_in_the_plural(client, superuser):
    client.sign_in(superuser)
    page = client.get("/admin/").content.decode()
    assert "Advisories" in page
    assert "Advisorys" not in page
