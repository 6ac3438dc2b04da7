import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from projects.models import Project
from reports.models import Attachment, CreditPreference, Report, ReportEvent, TrackingCounter
from tests.signin import Client

pytestmark = pytest.mark.django_db

STALWART_REPORT = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_versions": ["0.13.x"],
    "affected_components": "smtp-inbound",
    "steps_to_reproduce": "Send `\\n.\\n` inside DATA.",
    "impact": "Spoofed mail from any local sender.",
    "proof_of_concept": "swaks --data ...",
}


@pytest.fixture
def seeded(db):
    call_command("seed_projects", verbosity=0)


@pytest.fixture
def signed_in(client, reporter):
    client.sign_in(reporter)
    return client


# How the reporter wants to be credited: asked by every intake form.
CREDIT = {"credit-display": "handle", "credit-handle": "@ada"}


def submit(client, slug, data, files=None):
    return client.post(f"/projects/{slug}/report/", {**CREDIT, **data, **(files or {})})


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client, seeded):
    response = client.get("/projects/stalwart/report/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/projects/stalwart/report/"
    login_page = client.get(response["Location"]).content.decode()
    assert "/accounts/signup/?next=%2Fprojects%2Fstalwart%2Freport%2F" in login_page


def test_stalwart_form_follows_its_policy(signed_in, seeded):
    body = signed_in.get("/projects/stalwart/report/").content.decode()
    for label in (
        "Vulnerability type",
        "Affected version(s)",
        "Affected components",
        "Steps to reproduce",
        "Impact",
        "Full paths of affected source files",
        "Commit or branch",
        "Proof of concept",
        "Suggested mitigation or fix",
        "CVSS vector",
    ):
        assert label in body, label
    assert 'value="0.13.x"' in body
    assert "0.12.x (no longer supported)" in body  # by today's date
    assert 'value="other/unknown"' in body
    assert "Node.js version" not in body


def test_mailtri_router_form_asks_for_its_environment(signed_in, seeded):
    body = signed_in.get("/projects/mailtri-router/report/").content.decode()
    for label in ("Operating system", "Node.js version", "AWS region"):
        assert label in body


def test_filing_a_report(
    signed_in, seeded, reporter, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(signed_in, "stalwart", STALWART_REPORT)
    report = Report.objects.get()
    year = report.created_at.year
    assert report.tracking_id == f"STW-{year}-0001"
    assert response["Location"] == f"/reports/STW-{year}-0001/filed/"
    assert report.reporter == reporter
    assert report.revision == Project.objects.get(slug="stalwart").revision_in_force()
    assert report.affected_versions == ["0.13.x"]
    assert report.state == "new"
    assert report.ack_due == report.created_at + datetime.timedelta(hours=24)
    confirmation = signed_in.get(response["Location"]).content.decode()
    assert f"STW-{year}-0001" in confirmation
    received = next(m for m in mailoutbox if m.to == [reporter.email])
    assert received.subject == f"[STW-{year}-0001] Report received"
    assert f"/reports/STW-{year}-0001/" in received.body
    assert ReportEvent.objects.filter(report=report, kind="created").count() == 1


def test_maintainers_get_a_new_report_email_without_the_details(
    signed_in, seeded, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories import MembershipFactory

    stalwart = Project.objects.get(slug="stalwart")
    maintainer = MembershipFactory(project=stalwart).user
    with django_capture_on_commit_callbacks(execute=True):
        submit(signed_in, "stalwart", STALWART_REPORT)
    email = next(m for m in mailoutbox if m.to == [maintainer.email])
    assert email.subject.endswith("New report for Stalwart")
    assert STALWART_REPORT["title"] in email.body
    assert STALWART_REPORT["steps_to_reproduce"] not in email.body
    assert STALWART_REPORT["impact"] not in email.body


def test_mailtri_router_extra_fields_are_stored(signed_in, seeded):
    submit(
        signed_in,
        "mailtri-router",
        {
            "title": "Header injection",
            "description": "d",
            "impact": "i",
            "affected_components": "router",
            "steps_to_reproduce": "s",
            "os": "Debian 12",
            "nodejs_version": "20.11",
            "aws_region": "eu-west-1",
        },
    )
    report = Report.objects.get()
    assert report.tracking_id.startswith("MTR-")
    assert report.extra_fields == {
        "os": "Debian 12",
        "nodejs_version": "20.11",
        "aws_region": "eu-west-1",
    }


def test_cvss_vector_is_validated_and_kept(signed_in, seeded):
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    submit(signed_in, "stalwart", {**STALWART_REPORT, "cvss_vector": vector})
    assert Report.objects.get().reporter_cvss_vector == vector


def test_attachments_are_stored_privately(signed_in, seeded, private_storage):
    files = {
        "attachments": [
            SimpleUploadedFile("poc.py", b"print(1)\n"),
            SimpleUploadedFile("trace.txt", b"trace"),
        ]
    }
    submit(signed_in, "stalwart", STALWART_REPORT, files)
    stored = list(Attachment.objects.order_by("name"))
    assert [(a.name, a.size) for a in stored] == [("poc.py", 9), ("trace.txt", 5)]
    for attachment in stored:
        assert private_storage in Path(attachment.file.path).parents


def oversized():
    return SimpleUploadedFile("big.bin", b"x" * 2048)


@pytest.mark.parametrize(
    ("slug", "data", "files", "error"),
    [
        ("stalwart", {**STALWART_REPORT, "impact": ""}, None, "This field is required."),
        ("stalwart", {**STALWART_REPORT, "title": ""}, None, "This field is required."),
        (
            "stalwart",
            {**STALWART_REPORT, "affected_versions": ["9.9.x"]},
            None,
            "Select a valid choice. 9.9.x is not one of the available choices.",
        ),
        (
            "stalwart",
            {**STALWART_REPORT, "cvss_vector": "CVSS:3.1/AV:X/AC:L"},
            None,
            "Invalid CVSS vector",
        ),
        (
            "stalwart",
            {**STALWART_REPORT, "cvss_vector": "AV:N/AC:L"},
            None,
            "A CVSS vector starts with",
        ),
        ("stalwart", STALWART_REPORT, {"attachments": [oversized()]}, "big.bin is larger than"),
        (
            "stalwart",
            STALWART_REPORT,
            {"attachments": [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(4)]},
            "Attach at most 3 files.",
        ),
        ("mailtri-router", {"title": "t", "description": "d"}, None, "This field is required."),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    signed_in, seeded, settings, private_storage, slug, data, files, error
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    settings.ATTACHMENT_MAX_FILES = 3
    response = submit(signed_in, slug, data, files)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Report.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert TrackingCounter.objects.count() == 0
    assert not private_storage.exists() or not any(private_storage.rglob("*.*"))


def test_unknown_and_inactive_projects_take_no_reports(signed_in, seeded):
    Project.objects.filter(slug="teammail").update(active=False)
    assert signed_in.get("/projects/nope/report/").status_code == 404
    assert signed_in.get("/projects/teammail/report/").status_code == 404
    assert submit(signed_in, "teammail", {"title": "x"}).status_code == 404
    assert Report.objects.count() == 0


def test_project_without_a_policy_in_force_takes_no_reports(signed_in):
    from tests.factories import PolicyRevisionFactory, ProjectFactory

    future = ProjectFactory(slug="future")
    PolicyRevisionFactory(project=future, effective_from=datetime.date(2099, 1, 1))
    assert signed_in.get("/projects/future/report/").status_code == 404


def test_post_without_csrf_token_is_refused(reporter, seeded):
    client = Client(enforce_csrf_checks=True)
    client.sign_in(reporter)
    response = client.post("/projects/stalwart/report/", {**CREDIT, **STALWART_REPORT})
    assert response.status_code == 403
    assert Report.objects.count() == 0


def test_failure_after_files_were_written_removes_them(
    signed_in, seeded, private_storage, monkeypatch
):
    from reports import services

    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.ReportEvent.objects, "create", explode)
    files = {"attachments": [SimpleUploadedFile("poc.py", b"print(1)\n")]}
    with pytest.raises(RuntimeError):
        submit(signed_in, "stalwart", STALWART_REPORT, files)
    assert Report.objects.count() == 0
    assert not any(private_storage.rglob("*.py"))


def test_markdown_in_report_fields_is_sanitized(signed_in, seeded):
    submit(
        signed_in,
        "stalwart",
        {**STALWART_REPORT, "impact": "<script>alert(1)</script> see [x](https://e.org)"},
    )
    report = Report.objects.get()
    body = signed_in.get(f"/reports/{report.tracking_id}/").content.decode()
    assert "<script>alert(1)" not in body
    assert '<a href="https://e.org" rel="nofollow noopener noreferrer">x</a>' in body


# --- Credit: every seed policy promises it ------------------------------------------------------

PROMISES = {
    # "we'll credit you in our GitHub Security Advisories (unless you prefer to remain anonymous)"
    "stalwart": "we'll credit you in our GitHub Security Advisories",
    # "You will be credited in the vulnerability report for your findings."
    "teammail": "You will be credited in the vulnerability report for your findings.",
    # "we'll credit you in our security advisories (unless you prefer anonymity)"
    "mailtri-router": "we'll credit you in our security advisories",
}


@pytest.mark.parametrize("slug", sorted(PROMISES))
def test_intake_asks_how_to_be_credited_under_the_policys_promise(signed_in, seeded, slug):
    form = signed_in.get(f"/projects/{slug}/report/")
    body = form.content.decode()
    assert PROMISES[slug] in body.replace("&#x27;", "'")
    credit = form.context["credit_form"]
    assert credit["display"].value() == "name"  # credited unless the reporter chooses otherwise
    assert [choice for choice, _ in credit.fields["display"].choices] == [
        "name",
        "handle",
        "anonymous",
    ]


def test_the_credit_choice_is_stored_with_the_report(signed_in, seeded, reporter):
    data = {**STALWART_REPORT, "credit-display": "name", "credit-name": ""}
    response = signed_in.post("/projects/stalwart/report/", data)
    assert response.status_code == 200
    assert "Give the name to credit, or choose another way." in response.content.decode()
    assert not Report.objects.exists()

    data["credit-name"] = "Ada Lovelace"
    assert signed_in.post("/projects/stalwart/report/", data).status_code == 302
    (choice,) = CreditPreference.objects.all()
    assert (choice.report, choice.user, choice.display, choice.name) == (
        Report.objects.get(),
        reporter,
        "name",
        "Ada Lovelace",
    )


@pytest.mark.parametrize(("members", "earlier"), [(1, 0), (6, 2)])
def test_one_filing_with_an_attachment_takes_a_fixed_number_of_queries(
    signed_in, seeded, members, earlier, django_assert_num_queries
):
    from tests.factories import MembershipFactory

    stalwart = Project.objects.get(slug="stalwart")
    for _ in range(members):
        MembershipFactory(project=stalwart)
    for _ in range(earlier):  # the year's counter row exists, or the filing creates it
        submit(signed_in, "stalwart", STALWART_REPORT)
    upload = {"attachments": SimpleUploadedFile("poc.bin", b"x" * 1024 * 1024)}
    # Request: user with roles, one query (the session comes from the cache). View: project,
    # revision in force, its version matrix (the form's and the service's). file_report:
    # blocked sender; [savepoint: the filing]; project row locked; tracking number (one
    # upsert); report; "created" event; disclosure (one insert, its date computed first); the
    # disclosure date read by its planner; reminders (one insert); the emails, acknowledgment
    # and news to the members together (members, the accounts of the reporter's and the
    # members' addresses, two thread lookups, one insert for all); the unclaimed-project check
    # ([savepoint], members exist, [release]); credit choice (insert); cap (uploads of the person:
    # the new report holds none); attachment (one insert); [release].
    # The same with one member and six, and for the first report of the year as for later ones.
    with django_assert_num_queries(25):
        response = submit(signed_in, "stalwart", STALWART_REPORT, upload)
    assert response.status_code == 302
    report = Report.objects.latest("pk")
    assert report.sequence == earlier + 1
    assert [(a.name, a.size) for a in report.attachments.all()] == [("poc.bin", 1024 * 1024)]
    assert CreditPreference.objects.get(report=report).handle == "@ada"
