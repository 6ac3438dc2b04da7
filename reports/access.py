"""Who may do what to a report: the one permission helper behind every view and admin action.

Visibility is `Report.objects.visible_to` (DESIGN §3); invisible reports answer 404 exactly like
missing ones. Among those who see a report, actions depend on who they are, one rule per action
in ACTIONS below. Roles come from projects.access (triager < maintainer < admin; superusers act
as project admins everywhere). Apps above reports keep their own tables built on `ReportAccess`
and the rules here (advisories.access).
"""

import dataclasses

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from projects.access import ADMIN, MAINTAINER, TRIAGER, has_role, role_of
from reports.models import Report, Viewer

# --- Rules: who, among those who see the report, may take an action -----------------------------


def participant(access):
    """Everyone who sees the report: reporter, collaborators, members."""
    return True


def member(minimum):
    def rule(access):
        return has_role(access.role, minimum)

    rule.__doc__ = f"Members of the project with at least the {minimum} role."
    return rule


def reporter(access):
    return access.is_reporter


def reporter_side(access):
    """The reporter and the collaborators."""
    return access.is_reporter or access.is_collaborator


def reporter_or(minimum):
    def rule(access):
        return access.is_reporter or has_role(access.role, minimum)

    rule.__doc__ = f"The reporter, and members with at least the {minimum} role."
    return rule


def while_open(rule):
    """`rule`, while the report is open: a closed, withdrawn or disclosed report takes no new
    files and no new people. Without a report (member_may: what a role may do at all), `rule`.
    """

    def open_rule(access):
        report = access.report
        return (report is None or report.is_open) and rule(access)

    open_rule.__doc__ = f"{rule.__doc__ or rule.__name__} While the report is open."
    return open_rule


def nobody(access):
    """Happens only as the effect of another action."""
    return False


ACTIONS = {
    "view": participant,
    "comment": participant,
    "upload": while_open(participant),
    "view_internal": member(TRIAGER),
    "comment_internal": member(TRIAGER),
    "acknowledge": member(TRIAGER),
    "triage": member(TRIAGER),
    "request_info": member(TRIAGER),
    "close": member(TRIAGER),
    # Closing as spam blocks the reporter's address for the project (services.mark_spam): whoever
    # may close a report may say it is spam.
    "mark_spam": member(TRIAGER),
    "score": member(TRIAGER),
    "assign": member(TRIAGER),  # to a member of the project, or to nobody
    "start_fix": member(MAINTAINER),
    "mark_fixed": member(MAINTAINER),
    "reopen": member(MAINTAINER),
    "provide_info": reporter_side,
    "choose_credit": reporter_side,  # each for themselves, until the report is disclosed
    "withdraw": reporter,
    "invite": while_open(reporter_or(MAINTAINER)),
    # Removing people and revoking invitations stays possible on a closed report.
    "manage_collaborators": reporter_or(MAINTAINER),
    # Disclosing happens by publishing the advisory (advisories.services.publish).
    "disclose": nobody,
}


class ActionTable:
    """allows / require / can over a table of {action: rule}; each rule takes a ReportAccess."""

    actions = {}

    def rules_apply_to(self):
        return self

    def allows(self, action):
        try:
            rule = self.actions[action]
        except KeyError:
            raise ValueError(f"unknown action {action!r}") from None
        return rule(self.rules_apply_to())

    def require(self, action):
        if not self.allows(action):
            raise PermissionDenied(f"You may not {action.replace('_', ' ')} on this report.")
        return self

    @property
    def can(self):
        """{action: allowed} for templates: `{% if can.comment_internal %}`."""
        subject = self.rules_apply_to()
        return {action: rule(subject) for action, rule in self.actions.items()}


@dataclasses.dataclass(frozen=True)
class ReportAccess(ActionTable):
    actions = ACTIONS

    report: Report
    user: object
    role: str | None  # project role, ADMIN for superusers, None for the reporter side
    is_reporter: bool
    is_collaborator: bool

    @property
    def is_member(self):
        return self.role is not None


def access_report(user, tracking_id):
    """The report with `tracking_id` as `user` may see it, or 404 (missing and hidden alike).

    Roles and shared reports are read once (Viewer) for both the visibility filter and the
    access object.
    """
    viewer = Viewer.of(user, shared=False)  # the report's own query checks the sharing
    report = get_object_or_404(
        Report.objects.visible_to(user, viewer=viewer).select_related(
            "project", "revision", "reporter__profile", "assignee__profile"
        ),
        tracking_id=tracking_id,
    )
    return access_for(viewer, report)


def access_for(viewer, report):
    """The access of a viewer to a report it was allowed to load."""
    return ReportAccess(
        report=report,
        user=viewer.user,
        role=viewer.role_in(report.project_id),
        is_reporter=report.reporter_id == viewer.user.pk,
        is_collaborator=viewer.shares(report),
    )


def member_may(action, role, actions=ACTIONS):
    """Whether a member holding `role` in a report's project may take `action` there, as a
    member (not as the report's reporter or a collaborator). `actions`: a table of rules over a
    ReportAccess (this module's, or advisories.access's). The admin offers its actions by this;
    each report is then checked with its own access.
    """
    member = ReportAccess(
        report=None, user=None, role=role, is_reporter=False, is_collaborator=False
    )
    return actions[action](member)


def can_view_sla(user, project):
    """The SLA dashboard is for the project's members (any role) and superusers."""
    return role_of(user, project) is not None


def can_unblock_senders(user, project):
    """Lifting a block on a sender (services.unblock_sender) is for the project's admins and
    superusers: whoever marks spam may block, only admins take it back.
    """
    return has_role(role_of(user, project), ADMIN)
