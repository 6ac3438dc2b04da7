"""The reports admin takes the site's actions with the site's rules and services, and writes
nothing else (DESIGN §3, §4).

Staff here hold every model permission: what stops them is the site's rule (reports.access),
never a missing Django permission. The expected rules are written out by hand, like
tests/test_action_tables.py.
"""

import pytest
from django.contrib.auth.models import Permission
from guardian.admin import GuardedModelAdmin

from reports import services
from reports.admin import ReportAdmin
from reports.models import Comment, Report, ReportEvent
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reports/report/"

# transition -> (state it starts from, the site's form fields)
TRANSITIONS = {
    "acknowledge": ("new", {"message": "Thank you, we are looking into it."}),
    "triage": ("new", {"severity": "high", "message": "Confirmed."}),
    "request_info": ("triaged", {"message": "Which version do you run?"}),
    "close": ("new", {"resolution": "spam", "message": "Not a vulnerability."}),
    "start_fix": ("triaged", {"message": ""}),
    "mark_fixed": ("triaged", {"message": ""}),
    "reopen": ("spam", {"message": "It is a vulnerability after all."}),
}
TRIAGER_MAY = {"acknowledge", "triage", "request_info", "close"}


def staff(user):
    """The member made staff with every model permission of the instance."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.all())
    return user


def bring_to(report, state, *, by):
    if state in {"triaged", "spam"}:
        services.transition(report=report, by=by, name="triage", message="Seen.", severity="low")
    if state == "spam":
        services.transition(report=report, by=by, name="close", message="Spam.", resolution="spam")
    return Report.objects.get(pk=report.pk)


def run_action(client, name, reports, **fields):
    return client.post(
        CHANGELIST,
        {"action": name, "_selected_action": [r.pk for r in reports], "apply": "yes", **fields},
    )


def offered_actions(client, changelist):
    form = client.get(changelist).context["action_form"]
    return set() if form is None else {value for value, _ in form.fields["action"].choices}


@pytest.mark.parametrize("name", TRANSITIONS)
def test_transition_actions_take_the_site_action_with_its_rule_and_service(
    client, cast, project, name, mailoutbox, django_capture_on_commit_callbacks
):
    """Each member takes the action in the admin exactly when the site lets them: through the
    service, with the site's form (its message reaches the audit trail), an event and an email.
    """
    source, fields = TRANSITIONS[name]
    for who in ("triager", "maintainer", "superuser"):
        user = cast[who] if who == "superuser" else staff(cast[who])
        report = bring_to(file(cast["reporter"], project), source, by=cast["maintainer"])
        events = set(report.events.values_list("pk", flat=True))
        client.sign_in(user)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(client, name, [report], **fields)
        assert response.status_code == 302
        after = Report.objects.get(pk=report.pk)
        new_events = ReportEvent.objects.filter(report=report).exclude(pk__in=events)
        if who == "triager" and name not in TRIAGER_MAY:
            assert after.state == source, who
            assert not new_events.exists(), who
            assert not mailoutbox, who
            continue
        assert after.state != source, who
        event = new_events.get()
        assert (event.actor, event.kind, event.from_state) == (user, "transition", source)
        assert event.message == fields["message"]
        assert cast["reporter"].email in {address for m in mailoutbox for address in m.to}


def test_the_action_page_shows_the_sites_form_and_its_errors(client, cast, report):
    client.sign_in(staff(cast["triager"]))
    page = client.post(CHANGELIST, {"action": "triage", "_selected_action": [report.pk]})
    assert page.status_code == 200
    body = page.content.decode()
    assert report.tracking_id in body
    assert 'name="severity"' in body
    refused = run_action(client, "triage", [report], severity="high", message="")
    # The service's own rule (a detailed response needs words) is reported, nothing changes.
    assert Report.objects.get(pk=report.pk).state == "new"
    assert refused.status_code == 302


def test_a_triager_is_offered_only_the_actions_the_site_allows_a_triager(client, cast, report):
    client.sign_in(staff(cast["triager"]))
    page = client.get(CHANGELIST)
    offered = {value for value, _ in page.context["action_form"].fields["action"].choices}
    assert {"acknowledge", "triage", "request_info", "close", "score"} <= offered
    assert not offered & {"start_fix", "mark_fixed", "reopen", "delete_selected"}
    client.sign_in(staff(cast["maintainer"]))
    offered = {
        value for value, _ in client.get(CHANGELIST).context["action_form"].fields["action"].choices
    }
    assert {"start_fix", "mark_fixed", "reopen"} <= offered
    assert "delete_selected" not in offered


def test_scoring_in_the_admin_is_the_sites_scoring(
    client, cast, report, django_capture_on_commit_callbacks
):
    client.sign_in(staff(cast["triager"]))
    response = run_action(client, "score", [report], vector="CVSS:3.1/AV:N/AC:L/bad")
    assert response.status_code == 200  # the form again, with the vector's error
    assert Report.objects.get(pk=report.pk).cvss_vector == ""
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    with django_capture_on_commit_callbacks(execute=True):  # scored by the task, after commit
        run_action(client, "score", [report], vector=vector)
    report = Report.objects.get(pk=report.pk)
    assert (report.cvss_vector, str(report.cvss_score)) == (vector, "9.8")
    assert report.events.filter(kind="cvss", actor=cast["triager"]).exists()


def test_report_fields_are_not_edited_in_the_admin(client, cast, report):
    """Title, severity, state, body fields: the intake and the services own them."""
    events = report.events.count()
    for user in (staff(cast["maintainer"]), cast["superuser"]):
        client.sign_in(user)
        url = f"/admin/reports/report/{report.pk}/change/"
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        response = client.post(url, {"title": "Rewritten", "severity": "low", "state": "fixed"})
        assert response.status_code == 403
    report = Report.objects.get(pk=report.pk)
    assert (report.title, report.severity, report.state) == (
        "Heap overflow in the parser",
        "",
        "new",
    )
    assert report.events.count() == events


def test_comments_are_append_only_also_for_superusers(client, cast, report):
    internal = services.add_comment(
        report=report, by=cast["maintainer"], body="Internal: exploit is trivial.", internal=True,
        by_member=True,
    )  # fmt: skip
    theirs = services.add_comment(
        report=report, by=cast["reporter"], body="Here is my PoC.", internal=False, by_member=False
    )
    for user in (staff(cast["maintainer"]), cast["superuser"]):
        client.sign_in(user)
        # Unticking "internal" would show the note to the reporter.
        url = f"/admin/reports/comment/{internal.pk}/change/"
        assert client.post(url, {"body": internal.body}).status_code == 403
        url = f"/admin/reports/comment/{theirs.pk}/change/"
        assert client.post(url, {"body": "I withdraw everything."}).status_code == 403
        assert client.get("/admin/reports/comment/add/").status_code == 403
    assert Comment.objects.get(pk=internal.pk).internal is True
    assert Comment.objects.get(pk=theirs.pk).body == "Here is my PoC."


def test_nobody_deletes_reports_comments_or_events_in_the_admin(client, cast, report, superuser):
    comment = services.add_comment(
        report=report, by=cast["reporter"], body="PoC attached.", internal=False, by_member=False
    )
    event = report.events.first()
    client.sign_in(superuser)
    for kind, row in (("report", report), ("comment", comment), ("reportevent", event)):
        url = f"/admin/reports/{kind}/{row.pk}/delete/"
        assert client.post(url, {"post": "yes"}).status_code == 403, kind
        assert "delete_selected" not in offered_actions(client, f"/admin/reports/{kind}/"), kind
        bulk = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
        client.post(f"/admin/reports/{kind}/", bulk)
        assert type(row).objects.filter(pk=row.pk).exists(), kind
    assert client.post(f"/admin/reports/reportevent/{event.pk}/change/", {}).status_code == 403


def test_guardians_object_permission_pages_are_gone(client, report, superuser, stranger):
    """They granted view_report without the collaborator rules, the audit trail or the email,
    and named the account behind any user id.
    """
    assert not issubclass(ReportAdmin, GuardedModelAdmin)
    client.sign_in(superuser)
    base = f"/admin/reports/report/{report.pk}/permissions/"
    for url in (base, f"{base}user-manage/{stranger.pk}/"):
        assert client.get(url).status_code == 404
    client.post(base, {"user": stranger.email, "submit_manage_user": "1"})
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 200  # still the root's
    client.sign_in(stranger)
    assert client.get(f"/reports/{report.tracking_id}/").status_code == 404


def test_the_report_page_links_to_the_site(client, report, superuser):
    client.sign_in(superuser)
    page = client.get(f"/admin/reports/report/{report.pk}/change/").content.decode()
    assert f'href="/reports/{report.tracking_id}/"' in page
