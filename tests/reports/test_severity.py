"""Severity follows the maintainers' CVSS score (issue 12): set from the score when it is
computed; chosen by hand only without a vector, or as an explicit override with a reason that
members read and the reporter side does not; removing the override returns to the score.
"""

import importlib
import re
from html import unescape

import pytest
from django.apps import apps as global_apps

from reports import forms, services
from reports.models import Report, ReportEvent

pytestmark = pytest.mark.django_db

CRITICAL_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 Critical
XSS_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"  # 6.1 Medium
NONE_31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"  # 0.0 None
REASON = "Only reachable with the admin API enabled, which is off by default."


def scored(report, by, vector, capture):
    with capture(execute=True):
        services.set_cvss_vector(report=report, by=by, vector=vector)
    return Report.objects.get(pk=report.pk)


def triage(report, by, **options):
    services.transition(report=report, by=by, name="triage", message="Confirmed.", **options)
    return Report.objects.get(pk=report.pk)


def detail(client, report, user):
    client.sign_in(user)
    return client.get(f"/reports/{report.tracking_id}/").content.decode()


def severity_shown(page):
    """The text of the report page's severity line, tags and spacing aside."""
    block = re.search(r'<dl class="row small mb-2" id="severity">(.*?)</dl>', page, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", block.group(1))).split())


# --- The rule (services) ------------------------------------------------------------------------


def test_the_score_sets_the_severity_over_a_manual_one(
    report, maintainer, django_capture_on_commit_callbacks
):
    report = triage(report, maintainer, severity="low")
    assert report.severity == "low"
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    assert (report.severity, report.severity_override_reason) == ("critical", "")
    event = ReportEvent.objects.filter(report=report, kind="severity").get()
    assert event.message == "Severity follows the CVSS score: Critical."
    assert event.public


@pytest.mark.parametrize(
    ("vector", "severity"), [(CRITICAL_31, "critical"), (XSS_31, "medium"), (NONE_31, "none")]
)
def test_each_cvss_rating_gives_its_severity(
    report, maintainer, django_capture_on_commit_callbacks, vector, severity
):
    assert scored(report, maintainer, vector, django_capture_on_commit_callbacks).severity == (
        severity
    )


def test_rescoring_moves_the_severity_and_scoring_again_writes_no_event(
    report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    report = scored(report, maintainer, XSS_31, django_capture_on_commit_callbacks)
    assert report.severity == "medium"
    services.compute_cvss(report_id=report.pk)  # a retried task
    assert ReportEvent.objects.filter(report=report, kind="severity").count() == 2


def test_the_reporters_suggestion_never_sets_the_severity(
    project, reporter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        filed = services.file_report(
            project=project,
            reporter=reporter,
            fields={"title": "XSS", "description": "x", "reporter_cvss_vector": CRITICAL_31},
        )
    filed.refresh_from_db()
    assert (filed.reporter_cvss_severity, filed.severity) == ("Critical", "")


def test_with_a_vector_triage_takes_no_severity_without_a_reason(
    report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    with pytest.raises(services.ReportError, match="give the reason for overriding"):
        triage(report, maintainer, severity="low")
    report.refresh_from_db()
    assert (report.state, report.severity) == ("new", "critical")
    report = triage(report, maintainer, severity="")
    assert (report.state, report.severity) == ("triaged", "critical")


def test_without_a_vector_triage_needs_a_severity(report, maintainer):
    with pytest.raises(services.ReportError, match="Choose a severity"):
        triage(report, maintainer, severity="")
    report.refresh_from_db()
    assert report.state == "new"


def test_an_override_is_kept_through_rescoring_and_removed_back_to_the_score(
    report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    report = triage(report, maintainer, severity="high", override_reason=REASON)
    assert (report.severity, report.severity_override_reason) == ("high", REASON)
    audit = ReportEvent.objects.filter(report=report, kind="severity", actor=maintainer).get()
    assert (audit.public, audit.message) == (
        False,
        f"Severity High, overriding CVSS 9.8 Critical: {REASON}",
    )
    report = scored(report, maintainer, XSS_31, django_capture_on_commit_callbacks)
    assert report.severity == "high"  # the override stands
    services.set_severity(report=report, by=maintainer, severity="")
    report.refresh_from_db()
    assert (report.severity, report.severity_override_reason) == ("medium", "")
    events = ReportEvent.objects.filter(report=report, kind="severity", actor=maintainer)
    assert [e.message for e in events.order_by("id")][-1] == (
        "Severity follows the CVSS score: Medium."
    )


def test_an_override_is_audited_for_members_only(
    report, maintainer, django_capture_on_commit_callbacks, mailoutbox
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_severity(report=report, by=maintainer, severity="high", override_reason=REASON)
    event = ReportEvent.objects.filter(report=report, kind="severity").latest("id")
    assert (event.actor, event.public) == (maintainer, False)
    assert event.message == f"Severity High, overriding CVSS 9.8 Critical: {REASON}"
    assert event.data == {
        "severity": "high",
        "override_reason": REASON,
        "cvss_severity": "Critical",
    }
    assert mailoutbox
    assert all(report.reporter.email not in m.to for m in mailoutbox)


def test_a_reason_without_an_overriding_severity_is_refused(
    report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    with pytest.raises(services.ReportError, match="Choose the severity that overrides"):
        services.set_severity(report=report, by=maintainer, severity="", override_reason=REASON)


def test_setting_the_same_severity_again_records_nothing(report, maintainer):
    services.set_severity(report=report, by=maintainer, severity="low")
    services.set_severity(report=report, by=maintainer, severity="low")
    assert ReportEvent.objects.filter(report=report, kind="severity").count() == 1


# --- Forms --------------------------------------------------------------------------------------


def test_the_triage_form_offers_a_plain_choice_without_a_vector(report):
    form = forms.transition_form("triage", report)
    assert "override_reason" not in form.fields
    assert form.fields["severity"].required


def test_the_triage_form_with_a_vector_follows_the_score_and_asks_a_reason_to_override(
    report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    form = forms.transition_form("triage", report)
    assert form.fields["severity"].choices[0] == ("", "Follow the CVSS score (CVSS 9.8 Critical)")
    refused = forms.transition_form("triage", report, {"message": "Ok.", "severity": "low"})
    assert refused.errors == {
        "override_reason": ["Give the reason for overriding the CVSS severity."]
    }
    orphan = forms.transition_form("triage", report, {"message": "Ok.", "override_reason": "x"})
    assert "severity" in orphan.errors
    assert forms.transition_form("triage", report, {"message": "Ok.", "severity": ""}).is_valid()


# --- Views --------------------------------------------------------------------------------------


def test_triage_through_the_page_with_an_override(
    client, report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    client.sign_in(maintainer)
    url = f"/reports/{report.tracking_id}/transitions/triage/"
    response = client.post(url, {"message": "Valid.", "severity": "low"}, follow=True)
    assert "Give the reason for overriding the CVSS severity." in response.content.decode()
    assert Report.objects.get(pk=report.pk).state == "new"
    client.post(url, {"message": "Valid.", "severity": "high", "override_reason": REASON})
    report.refresh_from_db()
    assert (report.state, report.severity, report.severity_override_reason) == (
        "triaged",
        "high",
        REASON,
    )


def test_members_read_the_override_and_its_reason_the_reporter_side_only_who_set_it(
    client, report, maintainer, reporter, collaborator, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    services.set_severity(report=report, by=maintainer, severity="high", override_reason=REASON)
    shown = severity_shown(detail(client, report, maintainer))
    assert shown == f"Severity High (override of CVSS 9.8 Critical: {REASON})"
    for user in (reporter, collaborator):
        page = detail(client, report, user)
        assert severity_shown(page) == "Severity High (set by the maintainers)"
        assert "admin API" not in page


def test_the_page_says_the_severity_comes_from_the_score(
    client, report, maintainer, reporter, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    for user in (maintainer, reporter):
        shown = severity_shown(detail(client, report, user))
        assert shown == "Severity Critical (from the CVSS score)"


def test_the_page_says_when_nobody_assessed_the_severity(client, report, maintainer):
    assert severity_shown(detail(client, report, maintainer)) == "Severity not assessed yet"


def test_the_severity_form_overrides_and_returns_to_the_score(
    client, report, maintainer, django_capture_on_commit_callbacks
):
    report = scored(report, maintainer, XSS_31, django_capture_on_commit_callbacks)
    client.sign_in(maintainer)
    url = f"/reports/{report.tracking_id}/severity/"
    page = client.post(url, {"severity": "critical"}, follow=True).content.decode()
    assert "Give the reason for overriding the CVSS severity." in page
    assert Report.objects.get(pk=report.pk).severity == "medium"
    page = client.post(
        url, {"severity": "critical", "override_reason": "Wormable."}, follow=True
    ).content.decode()
    assert "Severity: Critical." in page
    assert Report.objects.get(pk=report.pk).severity_override_reason == "Wormable."
    client.post(url, {"severity": "", "override_reason": ""})
    report.refresh_from_db()
    assert (report.severity, report.severity_override_reason) == ("medium", "")


def test_without_a_vector_the_severity_form_sets_it(client, report, triager):
    client.sign_in(triager)
    client.post(f"/reports/{report.tracking_id}/severity/", {"severity": "high"})
    assert Report.objects.get(pk=report.pk).severity == "high"


@pytest.mark.parametrize(("who", "status"), [("reporter", 403), ("collaborator", 403),
                                             ("stranger", 404), ("other_member", 404)])  # fmt: skip
def test_only_members_set_the_severity(client, report, request, who, status):
    client.sign_in(request.getfixturevalue(who))
    response = client.post(f"/reports/{report.tracking_id}/severity/", {"severity": "critical"})
    assert response.status_code == status
    assert Report.objects.get(pk=report.pk).severity == ""


def test_the_reporter_side_is_not_offered_the_severity_form(client, report, reporter, maintainer):
    assert f"/reports/{report.tracking_id}/severity/" not in detail(client, report, reporter)
    assert f"/reports/{report.tracking_id}/severity/" in detail(client, report, maintainer)


# --- Data migration -----------------------------------------------------------------------------


def test_the_migration_keeps_contradicting_manual_severities_as_overrides(
    report, maintainer, project, reporter, django_capture_on_commit_callbacks
):
    migration = importlib.import_module(
        "reports.migrations.0012_severity_follows_cvss_and_exact_version"
    )
    contradicting = scored(report, maintainer, CRITICAL_31, django_capture_on_commit_callbacks)
    empty = scored(
        services.file_report(project=project, reporter=reporter, fields={"title": "b"}),
        maintainer,
        XSS_31,
        django_capture_on_commit_callbacks,
    )
    # As before the change: a manual severity beside a score, and none beside another.
    Report.objects.filter(pk=contradicting.pk).update(severity="low")
    Report.objects.filter(pk=empty.pk).update(severity="")
    migration.follow_cvss(global_apps, None)
    contradicting.refresh_from_db()
    empty.refresh_from_db()
    assert (contradicting.severity, contradicting.severity_override_reason) == (
        "low",
        "Set before severity followed CVSS.",
    )
    assert (empty.severity, empty.severity_override_reason) == ("medium", "")
