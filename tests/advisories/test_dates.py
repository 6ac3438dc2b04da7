"""Dates people type stay on the calendar the platform computes with: 2000-01-01..2100-12-31.

A fix release of 9999-12-31 under a policy counting from the release made the disclosure date
overflow (a 500); 0001-01-01 was taken as well. The range lives in projects.forms.CalendarDateField.
"""

import datetime as dt

import pytest
from django.contrib.messages import get_messages

from advisories.models import Disclosure, DisclosureProposal
from reports.models import ReportEvent
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"]
RANGE_ERROR = "Enter a date between 2000-01-01 and 2100-12-31."


@pytest.fixture
def report(project, reporter, maintainer):
    """A report under a policy that discloses a week after the fixed release (TeamMail's)."""
    project.revisions.update(disclosure_days_after_release=7)
    return file(reporter, project)


def errors(response):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def disclosure(report):
    return Disclosure.objects.get(report=report)


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_a_fix_release_off_the_calendar_is_refused(client, report, maintainer, day):
    client.sign_in(maintainer)
    response = client.post(
        f"/reports/{report.tracking_id}/fix-release/", {"fix_version": "1.4.2", "released_on": day}
    )
    assert response.status_code == 302
    assert errors(response) == [RANGE_ERROR]
    assert disclosure(report).fix_released_on is None
    assert disclosure(report).due is None
    assert not ReportEvent.objects.filter(report=report, kind=ReportEvent.Kind.DISCLOSURE)


@pytest.mark.parametrize(
    ("day", "due"), [("2000-01-01", "2000-01-08"), ("2100-12-31", "2101-01-07")]
)
def test_a_fix_release_at_either_end_of_the_calendar_is_taken(client, report, maintainer, day, due):
    client.sign_in(maintainer)
    response = client.post(
        f"/reports/{report.tracking_id}/fix-release/", {"fix_version": "1.4.2", "released_on": day}
    )
    assert response.status_code == 302
    assert errors(response) == []
    assert disclosure(report).fix_released_on == dt.date.fromisoformat(day)
    assert disclosure(report).due.date() == dt.date.fromisoformat(due)


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_a_disclosure_date_off_the_calendar_is_refused(client, report, maintainer, day):
    client.sign_in(maintainer)
    response = client.post(
        f"/reports/{report.tracking_id}/disclosure/", {"date": day, "reason": "Release day."}
    )
    assert response.status_code == 302
    assert errors(response) == [RANGE_ERROR]
    assert not DisclosureProposal.objects.exists()


def test_the_last_day_of_the_calendar_is_a_valid_disclosure_date(client, report, maintainer):
    client.sign_in(maintainer)
    response = client.post(
        f"/reports/{report.tracking_id}/disclosure/", {"date": "2100-12-31", "reason": "Later."}
    )
    assert errors(response) == []
    assert DisclosureProposal.objects.get().proposed_date == dt.date(2100, 12, 31)


def test_date_inputs_tell_the_browser_the_range(client, report, maintainer):
    client.sign_in(maintainer)
    page = client.get(f"/reports/{report.tracking_id}/").content.decode()
    assert page.count('min="2000-01-01"') >= 2
    assert page.count('max="2100-12-31"') >= 2
