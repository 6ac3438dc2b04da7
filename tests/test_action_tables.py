"""Every action of every app's permission table, against the fixed cast (DESIGN §3).

Each app keeps its own table (reports.access.ACTIONS, advisories.access.ACTIONS) built on the
roles of projects.access. The expectations below are written out by hand: a new action fails
here until someone decides who may take it. Users who cannot see the report never get an access
object at all: they get 404, like a missing report.
"""

import pytest
from django.http import Http404

from advisories import access as advisory_access
from reports import access as report_access
from reports.models import CLOSED_STATES, Report
from tests.reports.conftest import file, share

pytestmark = pytest.mark.django_db

CAST = (
    "stranger",
    "other_member",
    "reporter",
    "collaborator",
    "triager",
    "maintainer",
    "project_admin",
    "superuser",
)
HIDDEN = {"stranger", "other_member"}
REPORTER_SIDE = {"reporter", "collaborator"}
MEMBERS = {"triager", "maintainer", "project_admin", "superuser"}  # superusers act as admins
MAINTAINERS = {"maintainer", "project_admin", "superuser"}
PARTICIPANTS = REPORTER_SIDE | MEMBERS

EXPECTED = {
    "reports": {
        "view": PARTICIPANTS,
        "comment": PARTICIPANTS,
        "upload": PARTICIPANTS,
        "view_internal": MEMBERS,
        "comment_internal": MEMBERS,
        "acknowledge": MEMBERS,
        "triage": MEMBERS,
        "request_info": MEMBERS,
        "close": MEMBERS,
        "mark_spam": MEMBERS,  # closes as spam and blocks the reporter's address
        "score": MEMBERS,
        "assign": MEMBERS,
        "start_fix": MAINTAINERS,
        "mark_fixed": MAINTAINERS,
        "reopen": MAINTAINERS,
        "provide_info": REPORTER_SIDE,
        "choose_credit": REPORTER_SIDE,
        "withdraw": {"reporter"},
        "invite": {"reporter"} | MAINTAINERS,
        "manage_collaborators": {"reporter"} | MAINTAINERS,  # remove people, revoke invitations
        "disclose": set(),  # only by publishing the advisory
    },
    "advisories": {
        "checklist": MEMBERS,
        "propose_disclosure": MAINTAINERS,
        "record_fix_release": MAINTAINERS,
        "edit_advisory": MAINTAINERS,
        "publish": MAINTAINERS,
        "respond_disclosure": {"reporter"},
        "approve_advisory": {"reporter"},
        "share_fix": MAINTAINERS,
        "review_fix": {"reporter"},
    },
}
TABLES = {"reports": report_access.ACTIONS, "advisories": advisory_access.ACTIONS}
# A closed (duplicate, not applicable, out of scope, informative, spam), withdrawn or disclosed
# report takes no new files and no new people; everything else stays as it is.
EXPECTED_CLOSED = {
    "reports": {**EXPECTED["reports"], "upload": set(), "invite": set()},
    "advisories": EXPECTED["advisories"],
}


def access_of(app, user, tracking_id):
    if app == "reports":
        return report_access.access_report(user, tracking_id)
    return advisory_access.access_disclosure(user, tracking_id)


@pytest.fixture
def report(project, cast):
    filed = file(cast["reporter"], project)
    share(filed, by=cast["reporter"], with_user=cast["collaborator"])
    return filed


def test_every_action_has_an_expectation():
    assert {app: set(table) for app, table in TABLES.items()} == {
        app: set(expected) for app, expected in EXPECTED.items()
    }


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("app", sorted(TABLES))
def test_every_action_against_the_cast(app, who, cast, report):
    if who in HIDDEN:
        with pytest.raises(Http404):
            access_of(app, cast[who], report.tracking_id)
        return
    access = access_of(app, cast[who], report.tracking_id)
    allowed = {action for action in TABLES[app] if access.allows(action)}
    assert allowed == {action for action, people in EXPECTED[app].items() if who in people}
    # What templates see is the same rule.
    assert {action for action, yes in access.can.items() if yes} == allowed


@pytest.mark.parametrize("who", sorted(PARTICIPANTS))
@pytest.mark.parametrize("state", sorted(CLOSED_STATES))
@pytest.mark.parametrize("app", sorted(TABLES))
def test_every_action_against_the_cast_on_a_closed_report(app, state, who, cast, report):
    Report.objects.filter(pk=report.pk).update(state=state)
    access = access_of(app, cast[who], report.tracking_id)
    allowed = {action for action in TABLES[app] if access.allows(action)}
    assert allowed == {action for action, people in EXPECTED_CLOSED[app].items() if who in people}
    assert {action for action, yes in access.can.items() if yes} == allowed


def test_an_unknown_action_is_an_error_not_a_refusal(cast, report):
    access = report_access.access_report(cast["maintainer"], report.tracking_id)
    with pytest.raises(ValueError, match="unknown action"):
        access.allows("publish")  # advisories' action, asked of the report's table


@pytest.mark.parametrize("who", CAST)
def test_the_sla_dashboard_is_for_members(who, cast, project, report):
    assert report_access.can_view_sla(cast[who], project) == (who in MEMBERS)
