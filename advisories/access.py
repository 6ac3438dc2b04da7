"""Who may do what in incident response and disclosure, on top of the report's access.

Only those who see the report get this far (reports.access.access_report: 404 for everyone
else). The rules are reports.access's; this table is advisories' own actions. Nobody publishes
from anywhere but here: publishing checks the policy's review rule and moves the report to
disclosed (advisories.services.publish).
"""

import dataclasses

from advisories.models import Advisory
from projects.access import MAINTAINER, TRIAGER
from reports.access import ActionTable, ReportAccess, access_report, member, reporter

ACTIONS = {
    "checklist": member(TRIAGER),
    "propose_disclosure": member(MAINTAINER),
    "record_fix_release": member(MAINTAINER),
    "edit_advisory": member(MAINTAINER),
    "publish": member(MAINTAINER),
    "share_fix": member(MAINTAINER),
    "respond_disclosure": reporter,
    "approve_advisory": reporter,
    "review_fix": reporter,
}


@dataclasses.dataclass(frozen=True)
class DisclosureAccess(ActionTable):
    actions = ACTIONS

    of_report: ReportAccess

    def rules_apply_to(self):
        return self.of_report

    @property
    def report(self):
        return self.of_report.report

    @property
    def is_member(self):
        return self.of_report.is_member

    def can_read(self, advisory):
        """Members read drafts; the reporter side once it is shared for review or published."""
        if advisory is None:
            return False
        return self.is_member or advisory.state != Advisory.State.DRAFT


def access_disclosure(user, tracking_id):
    """The report's disclosure work as `user` may see it, or 404 like reports.access."""
    return DisclosureAccess(access_report(user, tracking_id))
