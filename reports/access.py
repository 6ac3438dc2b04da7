"""Who may do what to a report: the one permission helper behind every view and admin action.

Visibility is `Report.objects.visible_to` (DESIGN §3); invisible reports answer 404 exactly like
missing ones. Among those who see a report, actions depend on the role:
- participants (reporter, collaborators, members) comment publicly and attach files;
- members of the project (triager < maintainer < admin) see and write internal content;
- the reporter withdraws, answers disclosure-date proposals, approves the advisory and chooses
  how they are credited; reporter and collaborators answer a request for information;
- the reporter and maintainers manage collaborators; maintainers propose disclosure dates and
  edit and publish advisories (the advisories app asks here too);
- nobody triggers `disclose` directly: publishing the advisory does.
Superusers act as project admins everywhere.
"""

import dataclasses

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from projects.models import Membership
from reports.models import Report, ReportUserObjectPermission

TRIAGER = Membership.Role.TRIAGER
MAINTAINER = Membership.Role.MAINTAINER
ADMIN = Membership.Role.ADMIN

# action -> minimum project role; actions of the reporter side are listed in `allows`.
MEMBER_ACTIONS = {
    "view_internal": TRIAGER,
    "comment_internal": TRIAGER,
    "acknowledge": TRIAGER,
    "triage": TRIAGER,
    "request_info": TRIAGER,
    "close": TRIAGER,
    "score": TRIAGER,
    "view_sla": TRIAGER,
    "start_fix": MAINTAINER,
    "mark_fixed": MAINTAINER,
    "reopen": MAINTAINER,
    "manage_collaborators": MAINTAINER,
    # Incident response and disclosure (advisories app).
    "checklist": TRIAGER,
    "propose_disclosure": MAINTAINER,
    "edit_advisory": MAINTAINER,
    "publish": MAINTAINER,
}
PARTICIPANT_ACTIONS = {"view", "comment", "upload"}
# Actions of the reporter alone.
REPORTER_ACTIONS = {"withdraw", "respond_disclosure", "approve_advisory", "credit_preference"}
# Transitions no one triggers directly: `disclose` happens by publishing the advisory.
INDIRECT_ACTIONS = {"disclose"}


@dataclasses.dataclass(frozen=True)
class ReportAccess:
    report: Report
    user: object
    role: str | None  # project role, ADMIN for superusers, None for the reporter side
    is_reporter: bool
    is_collaborator: bool

    @property
    def is_member(self):
        return self.role is not None

    def has_role(self, minimum):
        return self.role is not None and Membership(role=self.role).has_role(minimum)

    def allows(self, action):
        if action in PARTICIPANT_ACTIONS:
            return True
        if action in MEMBER_ACTIONS:
            return self.has_role(MEMBER_ACTIONS[action])
        if action in REPORTER_ACTIONS:
            return self.is_reporter
        if action in INDIRECT_ACTIONS:
            return False
        if action == "provide_info":
            return self.is_reporter or self.is_collaborator
        if action == "invite":
            return self.is_reporter or self.has_role(MAINTAINER)
        raise ValueError(f"unknown action {action!r}")

    def require(self, action):
        if not self.allows(action):
            raise PermissionDenied(f"You may not {action.replace('_', ' ')} on this report.")
        return self


def access_report(user, tracking_id):
    """The report with `tracking_id` as `user` may see it, or 404 (missing and hidden alike)."""
    report = get_object_or_404(
        Report.objects.visible_to(user).select_related("project", "revision", "reporter"),
        tracking_id=tracking_id,
    )
    return access_for(user, report)


def access_for(user, report):
    if user.is_superuser:
        role = ADMIN
    else:
        role = (
            Membership.objects.filter(user=user, project_id=report.project_id)
            .values_list("role", flat=True)
            .first()
        )
    is_collaborator = ReportUserObjectPermission.objects.filter(
        user=user, content_object=report, permission__codename="view_report"
    ).exists()
    return ReportAccess(
        report=report,
        user=user,
        role=role,
        is_reporter=report.reporter_id == user.pk,
        is_collaborator=is_collaborator,
    )


def can_view_sla(user, project):
    """The SLA dashboard is for the project's members (any role) and superusers."""
    return user.is_superuser or Membership.objects.filter(user=user, project=project).exists()
