"""The "CVE request needed" flag is internal (reports.access: view_internal, members): the report
list shows its badge to the project's members only, like the report page.
"""

import pytest

from reports.models import Report
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

BADGE = '<span class="badge text-bg-danger">CVE</span>'


@pytest.fixture
def flagged(report):
    """The maintainers' score reached the project's CVE threshold."""
    Report.objects.filter(pk=report.pk).update(
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss_score=9.8,
        cvss_severity="CRITICAL",
        cve_request_needed=True,
    )
    return report


def rows(client, user, view=""):
    client.sign_in(user)
    response = client.get(f"/reports/?view={view}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["triager", "maintainer", "project_admin", "superuser"])
def test_members_see_the_cve_badge_in_the_list(client, cast, flagged, who):
    body = rows(client, cast[who])
    assert flagged.tracking_id in body
    assert BADGE in body


@pytest.mark.parametrize("who", ["reporter", "collaborator"])
def test_the_reporter_side_never_sees_the_cve_badge(client, cast, flagged, who):
    body = rows(client, cast[who])
    assert flagged.tracking_id in body
    assert "9.8" in body  # the maintainers' score is shared; the CVE decision is not
    assert BADGE not in body
    assert "CVE" not in body.split("<tbody>")[1]


def test_a_member_elsewhere_reporting_here_sees_no_badge(client, project, other_member):
    mine = file(other_member, project)
    Report.objects.filter(pk=mine.pk).update(cvss_score=9.8, cve_request_needed=True)
    # Their own report is under "My reports" (their queue is the other project's).
    assert mine.tracking_id not in rows(client, other_member)
    body = rows(client, other_member, view="mine")
    assert mine.tracking_id in body
    assert BADGE not in body
