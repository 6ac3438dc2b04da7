import functools
from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone

from projects.people import named, shown_name
from reports.access import member_may
from reports.links import detail_paths, paths
from reports.models import Severity, State
from reports.selectors import QUEUE

register = template.Library()


@register.simple_tag(takes_context=True)
def participant(context, user, for_project=False):
    """How a person appears on a report (names: projects.people). Members see who everyone is:
    display name and address. The reporter side never learns who the maintainers are: whoever
    acted for the project (`for_project`, recorded when they acted) is its security team to
    them, also after leaving the project; the reporter is "Reporter" to collaborators unless
    they chose a display name.
    """
    if user is None:
        return "System"
    access, report = context["access"], context["report"]
    if user.pk == report.reporter_id:
        if user.pk == access.user.pk:
            return "You"
        return shown_name(user, email=access.is_member, fallback="Reporter")
    if for_project and not access.is_member:
        return f"{report.project.name} security team"
    # Collaborators' addresses were always shown on the report; a display name replaces them.
    return shown_name(user, email=access.is_member, fallback=user.email)


@register.filter
def span(value):
    """A duration as people say it: "5 h", "3.5 days"."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.1f} days"


DASH = "\u2014"
# The labels, escaped once (they are ours, but escaped all the same, like every other value).
STATE_LABELS = {value: escape(label) for value, label in State.choices}
SEVERITY_LABELS = {value: escape(label) for value, label in Severity.choices}
CVE_BADGE = ' <span class="badge text-bg-danger">CVE</span>'


@register.simple_tag
def report_rows(reports, *, viewer, now, view, progress):
    """The rows of the report list (templates/reports/report_list.html), rendered here: through
    the template engine each row's twenty-odd variables, tags and conditions cost more than the
    rest of the page. `reports`: reports.selectors.QueueRow. In the queue (`view`) there is an
    Assignee column, filled for those of the project's members who see its internals (the
    access rule `view_internal`, by the viewer's role there); `progress`: {report id:
    "done/total"}, the advisories' checklist column (incident_tags.checklist_progress).
    """
    detail = detail_paths()
    queue = view == QUEUE
    zone = get_current_timezone()
    projects = {}  # project id: (its name escaped, whether the viewer's role sees internals)
    for row in reports:
        if row.project_id not in projects:
            role = viewer.role_in(row.project_id)
            projects[row.project_id] = (
                escape(row.project.name),
                role is not None and member_may("view_internal", role),
            )
    return mark_safe(  # noqa: S308 - every value escaped in _row
        "\n".join(
            _row(r, *projects[r.project_id], now, zone, queue, progress, detail) for r in reports
        )
    )


def _row(report, project, internal, now, zone, queue, progress, detail):
    """One row, put together by an f-string (str.format with keywords cost three times as much,
    a tenth of the rows' time). Every value goes through `escape` (the standard library's, which
    Django's own wraps) before it is put in: tests/reports/test_queue.py lists hostile titles
    and names."""
    assignee = ""
    if queue:
        if internal:
            person = report.assignee
            assignee = escape(named(person.display_name, person.email)) if person else DASH
        assignee = f'<td class="d-none d-md-table-cell">{assignee}</td>'
    return (
        f'<tr><td class="text-nowrap"><a href="{escape(detail(report.tracking_id))}">'
        f'<span class="tracking-id">{escape(report.tracking_id)}</span></a></td>'
        f'<td class="text-break">{escape(report.title)}</td>'
        f'<td class="d-none d-md-table-cell">{project}</td>'
        f"<td>{STATE_LABELS.get(report.state) or escape(report.state)}</td>"
        f'<td class="d-none d-md-table-cell">{SEVERITY_LABELS.get(report.severity) or DASH}</td>'
        f'<td class="d-none d-lg-table-cell">{_cvss(report, internal)}</td>{assignee}'
        f'<td class="d-none d-lg-table-cell">{escape(progress.get(report.pk, DASH))}</td>'
        f'<td class="d-none d-sm-table-cell text-nowrap">{_due(report, now, zone)}</td></tr>'
    )


def _cvss(report, internal):
    if report.cvss_score is not None:
        cve = CVE_BADGE if internal and report.cve_request_needed else ""
        return f"{escape(str(report.cvss_score))} {escape(report.cvss_severity)}{cve}"
    if report.reporter_cvss_score is not None:
        return (
            '<span class="text-body-secondary" title="reporter\'s suggestion">'
            f"{escape(str(report.reporter_cvss_score))}?</span>"
        )
    return DASH


def _due(report, now, zone):
    if not report.next_due:
        return DASH
    # "2026-12-04 05:16", as strftime("%Y-%m-%d %H:%M") writes it, in half the time.
    shown = report.next_due.astimezone(zone).isoformat(" ", "minutes")[:16]
    if report.next_due < now:
        return f'<span class="text-danger fw-semibold">{shown} (overdue)</span>'
    return shown


# The queue's table of open and overdue reports per project, rendered here like the list's rows
# (the engine cost more per project than the page's query did); every value escaped.
COUNT_ROW = (
    '<tr><th scope="row"><a href="?view=queue&amp;project={slug}&amp;state=open" '
    'aria-label="Open reports of {name}">{name}</a></th><td>{open}</td><td>{overdue}</td>'
    '<td class="d-none d-md-table-cell small"><a href="{sla}" aria-label="SLA dashboard of '
    '{name}">SLA dashboard</a>{members}</td></tr>'
)
OVERDUE_LINK = (
    '<a class="text-danger fw-semibold" href="?view=queue&amp;project={slug}&amp;overdue=1" '
    'aria-label="Overdue reports of {name}">{overdue}</a>'
)
MEMBERS_LINK = ' · <a href="{url}" aria-label="Members of {name}">Members</a>'


@register.simple_tag
def count_rows(counts, *, member_projects):
    """The rows of the queue's counts (reports.selectors.queue_counts): per project, its open
    and overdue reports (each a link to the list filtered so) and its SLA dashboard, and its
    members page for those who manage them (`member_projects`).
    """
    managed = {project.pk for project in member_projects}
    members_path, sla_path = paths("projects:members"), paths("reports:sla_dashboard")
    rows = []
    for row in counts:
        project = row.project
        slug, name = escape(project.slug), escape(project.name)
        overdue = (
            OVERDUE_LINK.format(slug=slug, name=name, overdue=row.overdue) if row.overdue else "0"
        )
        members = ""
        if project.pk in managed:
            url = escape(members_path(project.slug))
            members = MEMBERS_LINK.format(url=url, name=name)
        rows.append(
            COUNT_ROW.format(
                slug=slug,
                name=name,
                open=row.open,
                overdue=overdue,
                sla=escape(sla_path(project.slug)),
                members=members,
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value escaped


@register.simple_tag
def options(choices, selected):
    """<option>s of (value, label) `choices`, `selected` marked: the list's filter selects."""
    return _options(tuple(choices), selected)


@functools.lru_cache(maxsize=512)
def _options(choices, selected):
    """The same choices and selection give the same HTML: every list page shows the states',
    severities' and sorts' selects, mostly with nothing selected."""
    return mark_safe(  # noqa: S308 - escaped
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(label)}</option>"
            for value, label in choices
        )
    )
