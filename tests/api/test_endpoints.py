"""What the endpoints do, over the site's services: the public reads, the queue with its
filters and keyset pages, the report with its timeline, comments, attachments (the site's caps
and headers), transitions, CVSS, advisory drafts and members.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from advisories.models import Advisory
from projects.models import Membership, ProjectInvitation
from reports.models import State
from tests.api.conftest import INTERNAL_NOTE, client_for, file

pytestmark = pytest.mark.django_db


# --- Public ---------------------------------------------------------------------------------------


def test_projects_and_the_policy_in_force_with_its_matrix(api_world):
    anonymous = APIClient()
    listed = anonymous.get("/api/projects/").json()
    assert [p["slug"] for p in listed] == ["acme"]
    assert listed[0]["url"] == "http://testserver/api/projects/acme/"
    detail = anonymous.get("/api/projects/acme/").json()
    assert detail["policy"]["versions"] == [
        {"series": "1.x", "status": "supported", "supported": True, "end_of_support": None}
    ]
    assert detail["policy"]["ack_hours"] == api_world.project.revisions.get().ack_hours
    assert detail["policy"]["disclosure_rule"]


def test_inactive_projects_are_not_found(api_world):
    api_world.project.active = False
    api_world.project.save()
    anonymous = APIClient()
    assert anonymous.get("/api/projects/").json() == []
    for path in ("", "advisories/", "hall-of-fame/"):
        assert anonymous.get(f"/api/projects/acme/{path}").status_code == 404


def test_published_advisories_with_their_document_links(api_world):
    anonymous = APIClient()
    identifier = api_world.published.identifier
    listed = anonymous.get("/api/projects/acme/advisories/").json()
    assert [a["identifier"] for a in listed] == [identifier]  # the draft is not public
    links = listed[0]["links"]
    assert links["osv"] == f"http://testserver/advisories/{identifier}.osv.json"
    assert links["csaf"] == f"http://testserver/advisories/{identifier}.csaf.json"
    assert links["cve"] is None  # no CVE ID
    assert anonymous.get(links["osv"]).status_code == 200
    assert anonymous.get(links["csaf"]).status_code == 200
    detail = anonymous.get(f"/api/advisories/{identifier}/").json()
    assert detail["fixed_versions"] == ["1.0.1"]
    assert {"name": "@finder", "type": "finder"} in detail["credits"]
    draft = api_world.advisory.identifier
    assert anonymous.get(f"/api/advisories/{draft}/").status_code == 404


def test_a_cve_link_once_the_advisory_has_a_cve_id(api_world):
    Advisory.objects.filter(pk=api_world.published.pk).update(cve_id="CVE-2026-12345")
    identifier = api_world.published.identifier
    links = APIClient().get(f"/api/advisories/{identifier}/").json()["links"]
    assert links["cve"] == f"http://testserver/advisories/{identifier}.cve.json"
    assert APIClient().get(links["cve"]).status_code == 200


def test_hall_of_fame(api_world):
    credits = APIClient().get("/api/projects/acme/hall-of-fame/").json()
    assert credits == [
        {
            "name": "@finder",
            "type": "finder",
            "advisory": api_world.published.identifier,
            "published_at": credits[0]["published_at"],
        }
    ]


# --- Reports --------------------------------------------------------------------------------------


def test_the_queue_walks_every_report_once_by_keyset_pages(
    api_world, maintainer, reporter, settings
):
    settings.REPORTS_PAGE_SIZE = 2
    for n in range(4):
        file(api_world.project, reporter, title=f"Another {n}")
    client = client_for(maintainer)
    seen, url = [], "/api/reports/?sort=newest"
    while url:
        page = client.get(url).json()
        seen += [row["tracking_id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 6
    assert seen == sorted(seen, reverse=True)


def test_queue_filters_as_the_site(api_world, maintainer, reporter):
    other = file(api_world.project, reporter, title="Still new")
    client = client_for(maintainer)

    def ids(query):
        response = client.get(f"/api/reports/?{query}")
        assert response.status_code == 200, response.content
        return {row["tracking_id"] for row in response.json()["results"]}

    report = api_world.report.tracking_id
    assert ids("state=new") == {other.tracking_id}
    assert report in ids("state=triaged")
    assert ids("severity=critical") == {report}
    assert ids("assigned=me") == {report}
    assert ids(f"q={report}") == {report}
    assert ids("project=acme") >= {report, other.tracking_id}
    assert ids("view=mine") == set()  # the maintainer filed and follows none


def test_the_reporter_side_lists_only_its_own_without_the_assignee(api_world, collaborator):
    rows = client_for(collaborator).get("/api/reports/").json()["results"]
    assert [row["tracking_id"] for row in rows] == [api_world.report.tracking_id]
    assert rows[0]["assignee"] is None


def test_members_see_the_internal_timeline_the_reporter_side_does_not(api_world, reporter, triager):
    url = f"/api/reports/{api_world.report.tracking_id}/"
    member = client_for(triager).get(url).json()
    assert member["internal"]["severity_override_reason"]
    assert member["internal"]["assignee"]
    notes = [e for e in member["timeline"] if e["type"] == "comment" and e["internal"]]
    assert [note["text"] for note in notes] == [INTERNAL_NOTE]
    assert "triage" not in member["transitions"]  # triaged already
    assert "start_fix" not in member["transitions"]  # maintainers only
    assert "close" in member["transitions"]
    mine = client_for(reporter).get(url).json()
    assert mine["internal"] is None
    assert all(not entry["internal"] for entry in mine["timeline"])
    assert mine["reporter"] == "You"
    by = {entry["by"] for entry in mine["timeline"] if entry["type"] == "event"}
    assert "Acme security team" in by
    assert mine["transitions"] == ["withdraw"]
    assert mine["severity"] == "critical"


def test_a_public_comment_through_the_service(api_world, reporter, mailoutbox):
    url = f"/api/reports/{api_world.report.tracking_id}/comments/"
    response = client_for(reporter).post(url, {"body": "More details."}, format="json")
    assert response.status_code == 201
    comment = api_world.report.comments.get(body="More details.")
    assert not comment.internal
    assert response.json()["id"] == comment.pk
    error = client_for(reporter).post(url, {"body": "   "}, format="json").json()["error"]
    assert error["code"] in {"invalid", "refused"}


def test_comments_keep_the_site_s_rate_limit(api_world, reporter, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "comment": "2/h/user"}
    client = client_for(reporter)
    url = f"/api/reports/{api_world.report.tracking_id}/comments/"
    statuses = [client.post(url, {"body": f"n{n}"}, format="json").status_code for n in range(3)]
    assert statuses == [201, 201, 429]


def test_attachments_with_the_site_s_caps_and_headers(api_world, reporter, settings):
    client = client_for(reporter)
    url = f"/api/reports/{api_world.report.tracking_id}/attachments/"
    response = client.post(
        url, {"attachments": [SimpleUploadedFile("trace.txt", b"trace\n")]}, format="multipart"
    )
    assert response.status_code == 201
    added = response.json()
    assert [a["name"] for a in added] == ["trace.txt"]
    download = client.get(added[0]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"trace\n"
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"
    assert download["Content-Disposition"] == 'attachment; filename="trace.txt"'
    settings.ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("big.bin", b"x" * 11)
    error = client.post(url, {"attachments": [big]}, format="multipart").json()["error"]
    assert "attachments" in error["fields"]
    settings.ATTACHMENT_MAX_BYTES = 1000
    settings.ATTACHMENTS_PER_REPORT = 2
    again = SimpleUploadedFile("again.txt", b"x")
    refused = client.post(url, {"attachments": [again]}, format="multipart").json()["error"]
    assert refused["code"] == "refused"
    assert client.post(url, {}, format="multipart").status_code == 400
    assert api_world.report.attachments.count() == 2


def test_no_uploads_to_a_closed_report(api_world, reporter, maintainer):
    from reports import services

    services.transition(
        report=api_world.report,
        by=maintainer,
        name="close",
        message="No.",
        resolution="informative",
    )
    url = f"/api/reports/{api_world.report.tracking_id}/attachments/"
    upload = {"attachments": [SimpleUploadedFile("late.txt", b"x")]}
    assert client_for(reporter).post(url, upload, format="multipart").status_code == 403


def test_an_attachment_of_another_report_is_not_found(api_world, reporter, maintainer):
    other = file(api_world.project, reporter, title="Second")
    url = f"/api/reports/{other.tracking_id}/attachments/{api_world.attachment.pk}/"
    assert client_for(maintainer).get(url).status_code == 404


def test_transitions_through_the_services(api_world, maintainer, reporter):
    tid = api_world.report.tracking_id
    client = client_for(maintainer)
    response = client.post(f"/api/reports/{tid}/transitions/start_fix/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == State.FIXING
    api_world.report.refresh_from_db()
    assert api_world.report.state == State.FIXING
    assert api_world.report.events.filter(to_state=State.FIXING).exists()
    again = client.post(f"/api/reports/{tid}/transitions/start_fix/", {}, format="json")
    assert again.json()["error"]["code"] == "refused"
    withdraw = client_for(reporter).post(
        f"/api/reports/{tid}/transitions/withdraw/", {"message": "Mistake."}, format="json"
    )
    assert withdraw.status_code == 200
    assert withdraw.json()["state"] == State.WITHDRAWN


def test_triage_takes_the_site_s_form(api_world, reporter, triager):
    fresh = file(api_world.project, reporter, title="Fresh")
    url = f"/api/reports/{fresh.tracking_id}/transitions/triage/"
    client = client_for(triager)
    error = client.post(url, {"message": "Yes."}, format="json").json()["error"]
    assert "severity" in error["fields"]
    done = client.post(url, {"message": "Yes.", "severity": "low"}, format="json")
    assert done.status_code == 200
    fresh.refresh_from_db()
    assert (fresh.state, fresh.severity) == (State.TRIAGED, "low")


def test_cvss_through_the_service(api_world, triager, django_capture_on_commit_callbacks):
    url = f"/api/reports/{api_world.report.tracking_id}/cvss/"
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(triager).post(url, {"vector": vector}, format="json")
    assert response.status_code == 200
    api_world.report.refresh_from_db()
    assert api_world.report.cvss_vector == vector
    assert str(api_world.report.cvss_score) == "9.8"  # scored by the task after commit


# --- Advisory drafts ------------------------------------------------------------------------------


def test_maintainers_edit_the_draft_with_the_site_s_checks(api_world, maintainer):
    url = f"/api/reports/{api_world.report.tracking_id}/advisory/"
    client = client_for(maintainer)
    edit = {"summary": "Overflow in the parser.", "fixed_versions": ["1.2.3"], "cwe": "CWE-787"}
    response = client.patch(url, edit, format="json")
    assert response.status_code == 200, response.content
    api_world.advisory.refresh_from_db()
    assert api_world.advisory.summary == "Overflow in the parser."
    assert api_world.advisory.fixed_versions == ["1.2.3"]
    assert api_world.advisory.title == "Heap overflow in the parser"  # untouched
    bad = client.patch(url, {"fixed_versions": ["not a version"]}, format="json").json()["error"]
    assert list(bad["fields"]) == ["fixed_versions"]
    unknown = client.patch(url, {"sumary": "typo"}, format="json").json()["error"]
    assert unknown["fields"] == {"sumary": ["Unknown field."]}


def test_drafting_follows_the_site_s_rules(api_world, maintainer, reporter):
    fresh = file(api_world.project, reporter, title="Too early")
    client = client_for(maintainer)
    url = f"/api/reports/{fresh.tracking_id}/advisory/"
    assert client.get(url).status_code == 404
    refused = client.post(url).json()["error"]
    assert refused == {
        "code": "refused",
        "message": "Draft the advisory once the report is triaged.",
        "fields": {"non_field_errors": ["Draft the advisory once the report is triaged."]},
    }
    from reports import services

    services.transition(report=fresh, by=maintainer, name="triage", message="Ok.", severity="low")
    assert client.post(url).status_code == 201
    assert client.post(url).status_code == 200  # the same draft


def test_a_published_advisory_is_not_edited(api_world, maintainer):
    url = f"/api/reports/{api_world.published.report.tracking_id}/advisory/"
    response = client_for(maintainer).patch(url, {"summary": "Changed."}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_the_reporter_reads_the_draft_once_shared(api_world, maintainer, reporter):
    from advisories import services

    url = f"/api/reports/{api_world.report.tracking_id}/advisory/"
    assert client_for(reporter).get(url).status_code == 404
    services.share_for_review(advisory=api_world.advisory, by=maintainer)
    assert client_for(reporter).get(url).json()["state"] == "in_review"


# --- Members --------------------------------------------------------------------------------------


def test_admins_list_invite_and_change_roles(api_world, project_admin, maintainer, mailoutbox):
    client = client_for(project_admin)
    listed = client.get("/api/projects/acme/members/").json()
    assert {m["email"] for m in listed["members"]} >= {maintainer.email, project_admin.email}
    response = client.post(
        "/api/projects/acme/members/",
        {"email": "newcomer@example.org", "role": "maintainer"},
        format="json",
    )
    assert response.status_code == 201
    assert ProjectInvitation.objects.get(email="newcomer@example.org").role == "maintainer"
    twice = client.post(
        "/api/projects/acme/members/",
        {"email": "newcomer@example.org", "role": "maintainer"},
        format="json",
    )
    assert twice.json()["error"]["code"] == "refused"
    spare = api_world.spare
    changed = client.patch(
        f"/api/projects/acme/members/{spare.pk}/", {"role": "admin"}, format="json"
    )
    assert changed.status_code == 200
    spare.refresh_from_db()
    assert spare.role == Membership.Role.ADMIN
    own = Membership.objects.get(user=project_admin)
    refused = client.patch(
        f"/api/projects/acme/members/{own.pk}/", {"role": "triager"}, format="json"
    )
    assert refused.json()["error"]["code"] == "refused"
    own.refresh_from_db()
    assert own.role == Membership.Role.ADMIN
    bad = client.patch(f"/api/projects/acme/members/{spare.pk}/", {"role": "king"}, format="json")
    assert list(bad.json()["error"]["fields"]) == ["role"]
