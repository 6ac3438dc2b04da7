"""CVSS 3.1 / 4.0 (reports.cvss) and where it is used: the reporter's suggestion at intake, the
maintainers' authoritative vector (POST /reports/<id>/cvss/, scored by the compute_cvss task after
commit), the CVE flag from the project's threshold (Stalwart: CVSS >= 4.0), and where the score
is shown.

Every expected score below was checked against an implementation other than the `cvss` library
the application uses: {metæffekt}'s ae-cvss-calculator (npm, all CVSS versions). Those marked
FIRST also appear with the same score in the FIRST-calculator vectors of the cvss library's own
test data (tests/vectors_simple4) or are FIRST's well-known examples.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils.html import escape

from mailer.models import OutboundEmail
from projects.models import Membership, Project
from reports import cvss, services, tasks
from reports.models import Report, ReportEvent
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CRITICAL_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8, FIRST
XSS_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"  # 6.1, FIRST's reflected XSS example
LOW_31 = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"  # 3.1
NONE_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"  # 0.0
JUST_BELOW_31 = "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:L/A:L"  # 3.9
JUST_AT_31 = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:L/I:N/A:N"  # 4.0
CRITICAL_40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3, FIRST
MEDIUM_40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"  # 5.1, FIRST
LOW_40 = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N"  # 2.1, FIRST
JUST_AT_40 = "CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N"  # 4.0, FIRST
# Base metrics alone never score 0.1 or 3.9 in CVSS 4.0; "unreported exploit maturity" does.
JUST_BELOW_40 = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:N/SA:N/E:U"  # 3.9
LOWEST_40 = "CVSS:4.0/AV:A/AC:L/AT:P/PR:L/UI:P/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:U"  # 0.1

STALWART_FIELDS = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_versions": ["0.13.x"],
    "affected_components": "smtp-inbound",
    "steps_to_reproduce": "Send `\\n.\\n` inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}


def row(report):
    return Report.objects.filter(pk=report.pk).values().get()


def cvss_columns(report):
    return Report.objects.filter(pk=report.pk).values(
        "cvss_vector", "cvss_score", "cvss_severity", "cve_request_needed",
        "reporter_cvss_vector", "reporter_cvss_score", "reporter_cvss_severity",
    ).get()  # fmt: skip


@pytest.fixture
def stalwart(db):
    call_command("seed_projects", verbosity=0)
    return Project.objects.get(slug="stalwart")


@pytest.fixture
def stalwart_maintainer(stalwart):
    return MembershipFactory(project=stalwart, role=Membership.Role.MAINTAINER).user


@pytest.fixture
def stalwart_report(stalwart, reporter):
    return services.file_report(project=stalwart, reporter=reporter, fields=STALWART_FIELDS)


def set_vector(report, by, vector, capture):
    """The maintainers' vector through the service, with the on-commit scoring task run."""
    with capture(execute=True):
        services.set_cvss_vector(report=report, by=by, vector=vector)
    return Report.objects.get(pk=report.pk)


# --- Scoring ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "version", "base", "severity"),
    [
        (CRITICAL_31, "3.1", 9.8, "Critical"),
        (XSS_31, "3.1", 6.1, "Medium"),
        (LOW_31, "3.1", 3.1, "Low"),
        (NONE_31, "3.1", 0.0, "None"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.0", 9.8, "Critical"),
        (CRITICAL_40, "4.0", 9.3, "Critical"),
        ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 8.5, "High"),
        (MEDIUM_40, "4.0", 5.1, "Medium"),
        (LOW_40, "4.0", 2.1, "Low"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 0.0, "None"),
    ],
)
def test_known_vectors_score_exactly(vector, version, base, severity):
    result = cvss.score(vector)
    assert (result.version, result.base_score, result.severity) == (version, base, severity)
    assert result.vector == vector


def test_surrounding_whitespace_is_ignored():
    assert cvss.score(f"  {CRITICAL_31}\n").vector == CRITICAL_31


@pytest.mark.parametrize(
    ("vector", "base", "severity"),
    [
        (NONE_31, 0.0, "None"),
        (LOWEST_40, 0.1, "Low"),
        (JUST_BELOW_31, 3.9, "Low"),
        (JUST_BELOW_40, 3.9, "Low"),
        (JUST_AT_31, 4.0, "Medium"),
        (JUST_AT_40, 4.0, "Medium"),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:H/I:L/A:N", 6.9, "Medium"),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:L/A:L", 7.0, "High"),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:L", 8.9, "High"),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", 9.0, "Critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "Critical"),
    ],
)
def test_severity_bands_at_their_boundaries(vector, base, severity):
    result = cvss.score(vector)
    assert (result.base_score, result.severity) == (base, severity)


PREFIX_ERROR = 'A CVSS vector starts with "CVSS:3.1/" or "CVSS:4.0/".'
INVALID = [
    ("garbage", "garbage", PREFIX_ERROR),
    ("empty", "", PREFIX_ERROR),
    ("no prefix", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", PREFIX_ERROR),
    ("lower-case prefix", CRITICAL_31.lower(), PREFIX_ERROR),
    ("CVSS 2.0", "CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C", PREFIX_ERROR),
    ("CVSS 2 without prefix", "AV:N/AC:L/Au:N/C:C/I:C/A:C", PREFIX_ERROR),
    ("3.1 missing a metric", CRITICAL_31.rsplit("/", 1)[0], 'Missing mandatory metrics "A"'),
    ("4.0 missing a metric", CRITICAL_40.rsplit("/", 1)[0], 'Missing mandatory metrics "SA"'),
    ("3.1 unknown value", CRITICAL_31[:-1] + "Z", 'Unknown value "Z" in field "A:Z"'),
    ("4.0 unknown value", CRITICAL_40[:-1] + "Q", '"SA:Q"'),
    ("unknown metric", CRITICAL_31 + "/XX:Y", 'Unknown metric "XX"'),
    ("duplicate metric", CRITICAL_31 + "/A:L", 'Duplicate metric "A"'),
    ("3.1 metrics as 4.0", CRITICAL_31.replace("3.1", "4.0"), '"S:U"'),
]


@pytest.mark.parametrize(
    ("vector", "reason"), [v[1:] for v in INVALID], ids=[v[0] for v in INVALID]
)
def test_invalid_vectors_are_refused_with_a_clear_message(vector, reason):
    with pytest.raises(ValidationError) as refused:
        cvss.score(vector)
    (message,) = refused.value.messages
    assert refused.value.code == "invalid_cvss"
    assert reason in message
    if reason != PREFIX_ERROR:
        assert message.startswith("Invalid CVSS vector: ")


# --- The reporter's suggestion at intake ---------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        ("garbage", PREFIX_ERROR),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C", PREFIX_ERROR),
        (CRITICAL_31.rsplit("/", 1)[0], 'Invalid CVSS vector: Missing mandatory metrics "A"'),
        (CRITICAL_40[:-1] + "Q", "Invalid CVSS vector:"),
    ],
)
def test_intake_shows_the_vector_error_and_stores_nothing(
    client, stalwart, reporter, mailoutbox, django_capture_on_commit_callbacks, vector, reason
):
    client.sign_in(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/projects/stalwart/report/",
            {**STALWART_FIELDS, "cvss_vector": vector, "credit-display": "anonymous"},
        )
    assert response.status_code == 200
    assert escape(reason) in response.content.decode()
    assert response.context["form"].errors["cvss_vector"]
    assert not Report.objects.exists()
    assert not ReportEvent.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert mailoutbox == []


def test_intake_keeps_the_reporters_suggestion_and_scores_it_separately(
    client, stalwart, reporter, django_capture_on_commit_callbacks
):
    client.sign_in(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/projects/stalwart/report/",
            {**STALWART_FIELDS, "cvss_vector": f" {CRITICAL_31} ", "credit-display": "anonymous"},
        )
    assert response.status_code == 302
    report = Report.objects.get()
    assert cvss_columns(report) == {
        "reporter_cvss_vector": CRITICAL_31,
        "reporter_cvss_score": Decimal("9.8"),
        "reporter_cvss_severity": "Critical",
        # The suggestion is not the maintainers' score, and alone it never asks for a CVE.
        "cvss_vector": "",
        "cvss_score": None,
        "cvss_severity": "",
        "cve_request_needed": False,
    }


def test_the_suggestion_is_scored_after_commit(
    stalwart, reporter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        report = services.file_report(
            project=stalwart,
            reporter=reporter,
            fields={**STALWART_FIELDS, "reporter_cvss_vector": MEDIUM_40},
        )
    assert row(report)["reporter_cvss_score"] is None  # not inside the filing transaction
    for callback in callbacks:
        callback()
    assert cvss_columns(report)["reporter_cvss_score"] == Decimal("5.1")
    assert cvss_columns(report)["reporter_cvss_severity"] == "Medium"


# --- The maintainers' vector --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("reporter", 403),
        ("collaborator", 403),
        ("stranger", 404),
        ("other_member", 404),
        ("triager", 302),
        ("maintainer", 302),
        ("project_admin", 302),
        ("superuser", 302),
    ],
)
def test_only_triagers_and_up_may_score(
    client, report, request, django_capture_on_commit_callbacks, who, status
):
    client.sign_in(request.getfixturevalue(who))
    before = row(report)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reports/{report.tracking_id}/cvss/", {"vector": XSS_31})
    assert response.status_code == status
    after = row(report)
    if status == 302:
        assert response["Location"] == f"/reports/{report.tracking_id}/"
        assert (after["cvss_vector"], after["cvss_score"], after["cvss_severity"]) == (
            XSS_31,
            Decimal("6.1"),
            "Medium",
        )
    else:
        assert after == before
        assert not report.events.filter(kind=ReportEvent.Kind.CVSS).exists()


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        ("garbage", PREFIX_ERROR),
        ("", "This field is required."),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C", PREFIX_ERROR),
        (CRITICAL_31[:-1] + "Z", 'Invalid CVSS vector: Unknown value "Z" in field "A:Z"'),
    ],
)
def test_a_bad_vector_shows_the_error_and_changes_nothing(
    client, report, maintainer, mailoutbox, django_capture_on_commit_callbacks, vector, reason
):
    scored = set_vector(report, maintainer, XSS_31, django_capture_on_commit_callbacks)
    before, events, emails = row(scored), report.events.count(), OutboundEmail.objects.count()
    mailoutbox.clear()
    client.sign_in(maintainer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/reports/{report.tracking_id}/cvss/", {"vector": vector}, follow=True
        )
    assert response.status_code == 200
    assert escape(reason) in response.content.decode()
    assert row(report) == before
    assert report.events.count() == events
    assert OutboundEmail.objects.count() == emails
    assert mailoutbox == []


def test_the_service_refuses_a_bad_vector_too(
    report, maintainer, django_capture_on_commit_callbacks
):
    before = row(report)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.set_cvss_vector(report=report, by=maintainer, vector="CVSS:3.1/AV:N")
    assert row(report) == before
    assert not report.events.filter(kind=ReportEvent.Kind.CVSS).exists()


def test_a_good_vector_is_stored_and_scored_by_the_task_after_commit(
    client, report, maintainer, django_capture_on_commit_callbacks
):
    client.sign_in(maintainer)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/reports/{report.tracking_id}/cvss/", {"vector": CRITICAL_40})
    assert response.status_code == 302
    stored = cvss_columns(report)
    assert (stored["cvss_vector"], stored["cvss_score"]) == (CRITICAL_40, None)  # scoring…
    assert report.events.filter(kind=ReportEvent.Kind.CVSS, message=CRITICAL_40).count() == 1
    for callback in callbacks:
        callback()
    stored = cvss_columns(report)
    assert (stored["cvss_score"], stored["cvss_severity"]) == (Decimal("9.3"), "Critical")
    assert not stored["cve_request_needed"]  # Acme sets no CVE threshold


# --- The CVE flag -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "score", "flag"),
    [
        (JUST_BELOW_31, "3.9", False),
        (JUST_AT_31, "4.0", True),
        (JUST_BELOW_40, "3.9", False),
        (JUST_AT_40, "4.0", True),
        (NONE_31, "0.0", False),
        (CRITICAL_31, "9.8", True),
    ],
)
def test_stalwart_asks_for_a_cve_from_a_maintainers_score_of_4(
    stalwart, stalwart_report, stalwart_maintainer, django_capture_on_commit_callbacks,
    vector, score, flag,
):  # fmt: skip
    assert stalwart.cve_threshold == Decimal("4.0")
    scored = set_vector(
        stalwart_report, stalwart_maintainer, vector, django_capture_on_commit_callbacks
    )
    assert (scored.cvss_score, scored.cve_request_needed) == (Decimal(score), flag)


def test_the_reporters_suggestion_alone_never_asks_for_a_cve(
    stalwart, stalwart_maintainer, reporter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.file_report(
            project=stalwart,
            reporter=reporter,
            fields={**STALWART_FIELDS, "reporter_cvss_vector": CRITICAL_31},
        )
    assert cvss_columns(report)["reporter_cvss_score"] == Decimal("9.8")
    assert not cvss_columns(report)["cve_request_needed"]
    # The maintainers disagree: their score decides, below the threshold.
    scored = set_vector(
        report, stalwart_maintainer, JUST_BELOW_31, django_capture_on_commit_callbacks
    )
    assert (scored.reporter_cvss_score, scored.cvss_score) == (Decimal("9.8"), Decimal("3.9"))
    assert not scored.cve_request_needed


def test_no_cve_flag_for_a_project_without_a_threshold(
    project, report, maintainer, django_capture_on_commit_callbacks
):
    assert project.cve_threshold is None
    scored = set_vector(
        report,
        maintainer,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        django_capture_on_commit_callbacks,
    )
    assert (scored.cvss_score, scored.cve_request_needed) == (Decimal("10.0"), False)


def test_rescoring_below_the_threshold_clears_the_flag(
    stalwart_report, stalwart_maintainer, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    assert set_vector(stalwart_report, stalwart_maintainer, CRITICAL_31, capture).cve_request_needed
    rescored = set_vector(stalwart_report, stalwart_maintainer, LOW_31, capture)
    assert (rescored.cvss_score, rescored.cve_request_needed) == (Decimal("3.1"), False)


def test_a_new_vector_clears_the_old_score_and_flag_until_it_is_scored(
    stalwart_report, stalwart_maintainer, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    assert set_vector(stalwart_report, stalwart_maintainer, CRITICAL_31, capture).cve_request_needed
    with capture():  # the scoring task has not run yet
        services.set_cvss_vector(report=stalwart_report, by=stalwart_maintainer, vector=LOW_31)
    pending = cvss_columns(stalwart_report)
    assert (pending["cvss_vector"], pending["cvss_score"], pending["cvss_severity"]) == (
        LOW_31,
        None,
        "",
    )
    # No score, so no "score reaches the threshold": the old vector's flag must not linger.
    assert pending["cve_request_needed"] is False


# --- Where the score is shown -------------------------------------------------------------------


def test_the_score_shows_on_the_detail_page_the_queue_and_the_admin(
    client, stalwart_report, stalwart_maintainer, reporter, superuser,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    report = set_vector(
        stalwart_report, stalwart_maintainer, CRITICAL_31, django_capture_on_commit_callbacks
    )
    detail = f"/reports/{report.tracking_id}/"

    client.sign_in(stalwart_maintainer)
    page = client.get(detail).content.decode()
    assert f"<code>{CRITICAL_31}</code> <strong>9.8</strong> (Critical)" in page
    assert "CVE request needed" in page
    queue = client.get("/reports/").content.decode()
    assert "9.8 Critical" in queue
    assert '<span class="badge text-bg-danger">CVE</span>' in queue

    client.sign_in(reporter)
    page = client.get(detail).content.decode()
    assert "<strong>9.8</strong> (Critical)" in page
    assert "CVE request needed" not in page  # the CVE decision is the members' business
    assert "9.8 Critical" in client.get("/reports/").content.decode()

    client.sign_in(superuser)
    changelist = client.get("/admin/reports/report/")
    assert changelist.status_code == 200
    assert '<td class="field-cvss_score">9.8</td>' in changelist.content.decode()
    assert '<td class="field-cvss_severity">Critical</td>' in changelist.content.decode()


def test_an_unscored_report_shows_the_reporters_suggestion_in_the_queue(
    client, stalwart, reporter, stalwart_maintainer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.file_report(
            project=stalwart,
            reporter=reporter,
            fields={**STALWART_FIELDS, "reporter_cvss_vector": XSS_31},
        )
    client.sign_in(stalwart_maintainer)
    queue = client.get("/reports/").content.decode()
    assert 'title="reporter\'s suggestion">6.1?</span>' in queue
    page = client.get(f"/reports/{Report.objects.get().tracking_id}/").content.decode()
    assert "not scored yet" in page
    assert f"<code>{XSS_31}</code> 6.1 (Medium)" in page


# --- Idempotence --------------------------------------------------------------------------------


def test_compute_cvss_is_idempotent(
    stalwart, reporter, stalwart_maintainer, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        report = services.file_report(
            project=stalwart,
            reporter=reporter,
            fields={**STALWART_FIELDS, "reporter_cvss_vector": XSS_31},
        )
    set_vector(report, stalwart_maintainer, JUST_AT_40, capture)
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC), tick=False):
        services.compute_cvss(report_id=report.pk)
        once = row(report)
        events, emails, sent = report.events.count(), OutboundEmail.objects.count(), len(mailoutbox)
        with capture(execute=True):
            services.compute_cvss(report_id=report.pk)
            tasks.compute_cvss.delay(report.pk)  # a redelivered task
        assert row(report) == once
    assert (once["cvss_score"], once["reporter_cvss_score"]) == (Decimal("4.0"), Decimal("6.1"))
    assert once["cve_request_needed"] is True
    assert (report.events.count(), OutboundEmail.objects.count(), len(mailoutbox)) == (
        events,
        emails,
        sent,
    )


def test_an_unscored_report_stays_unscored(report):
    before = row(report)
    services.compute_cvss(report_id=report.pk)
    after = row(report)
    assert {**after, "updated_at": None} == {**before, "updated_at": None}
    assert after["cvss_score"] is None
    assert after["reporter_cvss_score"] is None


# --- A bad stored vector never poisons the task ---------------------------------------------------


def test_an_unscorable_stored_vector_is_recorded_and_the_sweep_moves_on(
    client, stalwart, reporter, stalwart_maintainer, django_capture_on_commit_callbacks
):
    """A vector stored before validation (or refused by a newer library) used to make every run
    of score_unscored raise, so the reports after it were never scored.
    """
    bad = services.file_report(project=stalwart, reporter=reporter, fields=STALWART_FIELDS)
    good = services.file_report(project=stalwart, reporter=reporter, fields=STALWART_FIELDS)
    Report.objects.filter(pk=bad.pk).update(cvss_vector="CVSS:3.1/AV:X")
    Report.objects.filter(pk=good.pk).update(cvss_vector=JUST_AT_40)

    assert tasks.score_unscored.delay().get() == 2
    bad.refresh_from_db()
    good.refresh_from_db()
    assert good.cvss_score == Decimal("4.0")
    assert bad.cvss_score is None
    assert bad.cvss_error.startswith("The maintainers' vector cannot be scored: Invalid CVSS")
    assert tasks.score_unscored.delay().get() == 0  # not retried until a new vector is set

    client.sign_in(stalwart_maintainer)
    page = client.get(f"/reports/{bad.tracking_id}/").content.decode()
    assert "cannot be scored" in page
    set_vector_url = f"/reports/{bad.tracking_id}/cvss/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(set_vector_url, {"vector": JUST_AT_40}).status_code == 302
    bad.refresh_from_db()
    assert (bad.cvss_score, bad.cvss_error) == (Decimal("4.0"), "")
