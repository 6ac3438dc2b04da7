"""Who may see and do what on a report (DESIGN §3), checked through the URLs.

- The permission matrix: every report URL and action x the cast, with the expected status and,
  for allowed actions, the effect (nothing changes when an action is refused or hidden).
- Hidden reports answer exactly like missing ones.
- A sentinel in internal content never reaches a reporter-side page or email.
- The reporter side never learns who the maintainers are.
"""

import dataclasses
import re
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from reports import emails, services
from reports.models import ReportEvent, State
from tests.factories import UserFactory
from tests.reports.conftest import file

pytestmark = pytest.mark.django_db

MISSING_ID = "ACME-2099-9999"
INVITEE = "invitee@example.org"
UPLOAD = ("exploit.txt", b"curl -H 'X: AAAA...' http://target/\n")
SENTINEL = "SENTINEL-7f3a9"

# --- The table of expectations --------------------------------------------------------------------

CAST = (
    "anonymous",
    "stranger",
    "other_member",
    "reporter",
    "collaborator",
    "triager",
    "maintainer",
    "superuser",
)
HIDDEN = frozenset({"stranger", "other_member"})
REPORTER_SIDE = frozenset({"reporter", "collaborator"})
MEMBERS = frozenset({"triager", "maintainer", "superuser"})  # superuser acts as project admin
MAINTAINERS = frozenset({"maintainer", "superuser"})
PARTICIPANTS = REPORTER_SIDE | MEMBERS


@dataclasses.dataclass(frozen=True)
class Action:
    name: str
    method: str
    path: str  # formatted with the report's id, the attachment's and the collaborator's pk
    allowed: frozenset = PARTICIPANTS
    data: dict = dataclasses.field(default_factory=dict)
    start: tuple = ()  # transitions (name, options) the maintainer applies first
    to_state: str = ""  # for transitions: the state the report is in afterwards


def transition(name, allowed, to_state, start=(), **data):
    return Action(
        name,
        "post",
        f"/reports/{{id}}/transitions/{name}/",
        allowed,
        {"message": f"Message for {name}.", **data},
        start,
        to_state,
    )


TRIAGE = ("triage", {"severity": "high"})
ACTIONS = (
    Action("detail", "get", "/reports/{id}/"),
    Action("filed", "get", "/reports/{id}/filed/"),
    Action("download", "get", "/reports/{id}/attachments/{attachment}/"),
    Action("comment", "post", "/reports/{id}/comment/", data={"body": "Any news?"}),
    Action(
        "comment_internal",
        "post",
        "/reports/{id}/comment/",
        # Accepted from everyone who sees the report, but internal only from members.
        data={"body": "Between us: this is bad.", "internal": "on"},
    ),
    Action("upload", "post", "/reports/{id}/attachments/", data={"attachments": UPLOAD}),
    Action(
        "invite",
        "post",
        "/reports/{id}/collaborators/",
        {"reporter"} | MAINTAINERS,
        {"email": INVITEE},
    ),
    Action(
        "remove_collaborator",
        "post",
        "/reports/{id}/collaborators/{collaborator}/remove/",
        {"reporter"} | MAINTAINERS,
    ),
    Action(
        "score",
        "post",
        "/reports/{id}/cvss/",
        MEMBERS,
        {"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
    ),
    transition("acknowledge", MEMBERS, State.ACKNOWLEDGED),
    transition("triage", MEMBERS, State.TRIAGED, severity="high"),
    transition("start_fix", MAINTAINERS, State.FIXING, start=(TRIAGE,)),
    transition("mark_fixed", MAINTAINERS, State.FIXED, start=(TRIAGE,)),
    transition("request_info", MEMBERS, State.NEEDS_INFO),
    transition("provide_info", REPORTER_SIDE, State.NEW, start=(("request_info", {}),)),
    transition("close", MEMBERS, State.INFORMATIVE, resolution=State.INFORMATIVE),
    transition("withdraw", {"reporter"}, State.WITHDRAWN),
    transition(
        "reopen", MAINTAINERS, State.NEW, start=(("close", {"resolution": State.INFORMATIVE}),)
    ),
    # Nobody discloses directly: only publishing the advisory does (tests/advisories).
    transition("disclose", frozenset(), State.DISCLOSED, start=(TRIAGE, ("mark_fixed", {}))),
)
ACTION_IDS = [action.name for action in ACTIONS]


CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def without_csrf_token(response):
    """The page, its CSRF token (masked differently on every response) aside."""
    return CSRF_TOKEN.sub(b'name="csrfmiddlewaretoken" value=""', response.content)


def action_path(step):
    """The URL segment of a step on a report: transitions have their own."""
    return f"transitions/{step}" if step in services.TRANSITIONS else step


BY_NAME = {action.name: action for action in ACTIONS}


def expected_status(action, who):
    if who == "anonymous":
        return 302  # to the login page
    if who in HIDDEN:
        return 404
    if who not in action.allowed:
        return 403
    return 200 if action.method == "get" else 302


# --- Helpers ------------------------------------------------------------------------------------


@pytest.fixture
def scene(report, reporter, collaborator, cast):
    """The report (collaborator added) with one attachment, and an account to invite."""
    services.add_attachments(report=report, by=reporter, files=[uploaded("poc.py", b"print(1)\n")])
    UserFactory(email=INVITEE)
    return {
        "report": report,
        "attachment": report.attachments.get(),
        "collaborator": collaborator,
        "cast": cast,
    }


def uploaded(name, content):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def url(action, scene, tracking_id=None):
    return action.path.format(
        id=tracking_id or scene["report"].tracking_id,
        attachment=scene["attachment"].pk,
        collaborator=scene["collaborator"].pk,
    )


def request_as(client, user, method, path, data=None):
    """`method` on `path` as `user` (None: anonymous), files given as (name, bytes) tuples."""
    client.logout()
    if user is not None:
        client.sign_in(user)
    data = {k: uploaded(*v) if isinstance(v, tuple) else v for k, v in (data or {}).items()}
    return getattr(client, method)(path, data)


def prepare(action, scene):
    """Put the report in a state where `action` is valid."""
    for name, options in action.start:
        services.transition(
            report=scene["report"],
            by=scene["cast"]["maintainer"],
            name=name,
            message=f"Set-up: {name}.",
            **options,
        )


def snapshot(report):
    """Everything an action could change."""
    report.refresh_from_db()
    return {
        "state": report.state,
        "comments": list(report.comments.values_list("pk", "internal")),
        "attachments": list(report.attachments.values_list("pk", flat=True)),
        "collaborators": list(services.collaborators(report).values_list("pk", flat=True)),
        "invitations": report.invitations.count(),
        "events": report.events.count(),
        "cvss": (report.cvss_vector, report.cvss_score),
    }


def assert_effect(action, who, scene, before):
    """The allowed `action` by `who` did what it says."""
    report, actor = scene["report"], scene["cast"][who]
    after = snapshot(report)
    if action.method == "get":
        assert after == before
    elif action.name in ("comment", "comment_internal"):
        new = report.comments.exclude(pk__in=[pk for pk, _ in before["comments"]])
        assert new.count() == 1
        comment = new.get()
        assert (comment.author, comment.body) == (actor, action.data["body"])
        # internal=on from the reporter side is ignored: stored public, never as internal.
        assert comment.internal is (action.name == "comment_internal" and who in MEMBERS)
    elif action.name == "upload":
        new = report.attachments.exclude(pk__in=before["attachments"])
        assert [(a.name, a.uploaded_by) for a in new] == [(UPLOAD[0], actor)]
    elif action.name == "invite":
        # An invitation to the address, whoever owns it; access comes with accepting it.
        assert after["collaborators"] == before["collaborators"]
        assert after["invitations"] == before["invitations"] + 1
        assert report.invitations.latest("pk").email == INVITEE
    elif action.name == "score":
        # The score itself comes from the compute_cvss task after commit (tests/reports/test_cvss).
        assert after["cvss"] == (action.data["vector"], None)
    elif action.name == "remove_collaborator":
        assert scene["collaborator"].pk in before["collaborators"]
        assert scene["collaborator"].pk not in after["collaborators"]
    else:
        assert after["state"] == action.to_state
        event = report.events.latest("created_at", "id")
        assert (event.kind, event.actor, event.to_state) == ("transition", actor, action.to_state)


# --- The matrix ---------------------------------------------------------------------------------


def test_the_table_covers_every_transition():
    transitions = {action.name for action in ACTIONS if action.to_state}
    assert transitions == set(services.TRANSITIONS)


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("action", ACTIONS, ids=ACTION_IDS)
def test_permission_matrix(client, scene, action, who):
    prepare(action, scene)
    path = url(action, scene)
    before = snapshot(scene["report"])

    response = request_as(client, scene["cast"][who], action.method, path, action.data)

    status = expected_status(action, who)
    assert response.status_code == status, f"{who} {action.name}: {response.status_code}"
    if who == "anonymous":
        assert response.url == f"/accounts/login/?next={quote(path)}"
    elif who in HIDDEN:
        # Indistinguishable from a report that does not exist.
        missing = request_as(
            client,
            scene["cast"][who],
            action.method,
            url(action, scene, MISSING_ID),
            action.data,
        )
        assert missing.status_code == 404
        assert without_csrf_token(response) == without_csrf_token(missing)
    elif status == 302:
        assert response.url == f"/reports/{scene['report'].tracking_id}/"
    if status in (200, 302) and who != "anonymous":
        assert_effect(action, who, scene, before)
    else:
        assert snapshot(scene["report"]) == before


@pytest.mark.parametrize("action", ACTIONS, ids=ACTION_IDS)
def test_a_missing_tracking_id_is_not_found(client, scene, action):
    prepare(action, scene)
    before = snapshot(scene["report"])
    path = url(action, scene, MISSING_ID)
    for who in ("reporter", "maintainer", "superuser"):
        response = request_as(client, scene["cast"][who], action.method, path, action.data)
        assert response.status_code == 404, who
    assert snapshot(scene["report"]) == before


def test_a_successful_get_returns_the_content(client, scene):
    reporter = scene["cast"]["reporter"]
    response = request_as(client, reporter, "get", url(BY_NAME["download"], scene))
    assert b"".join(response.streaming_content) == b"print(1)\n"
    body = request_as(client, reporter, "get", url(BY_NAME["detail"], scene)).content.decode()
    assert scene["report"].title in body


def test_an_attachment_of_another_report_is_not_found(client, scene, project, stranger):
    other = file(stranger, project, title="Another report")
    services.add_attachments(report=other, by=stranger, files=[uploaded("other.txt", b"secret")])
    path = f"/reports/{scene['report'].tracking_id}/attachments/{other.attachments.get().pk}/"
    for who in ("reporter", "maintainer", "superuser"):
        assert request_as(client, scene["cast"][who], "get", path).status_code == 404, who


def test_an_unknown_transition_is_not_found(client, scene):
    path = f"/reports/{scene['report'].tracking_id}/publish/"
    response = request_as(client, scene["cast"]["superuser"], "post", path, {"message": "x"})
    assert response.status_code == 404


def test_removing_someone_who_is_not_a_collaborator_is_not_found(client, scene):
    report, cast = scene["report"], scene["cast"]
    path = f"/reports/{report.tracking_id}/collaborators/{cast['stranger'].pk}/remove/"
    before = snapshot(report)
    assert request_as(client, cast["maintainer"], "post", path).status_code == 404
    assert snapshot(report) == before


# --- Internal content never reaches the reporter side --------------------------------------------


def reporter_side_pages(report, project):
    revision = project.revisions.get()
    return [
        f"/reports/{report.tracking_id}/",
        f"/reports/{report.tracking_id}/filed/",
        f"/reports/{report.tracking_id}/attachments/{report.attachments.first().pk}/",
        "/reports/",
        f"/reports/?project={project.slug}",
        "/reports/?state=open",
        "/",
        f"/projects/{project.slug}/",
        f"/projects/{project.slug}/policy/{revision.pk}/",
        f"/projects/{project.slug}/hall-of-fame/",
        f"/projects/{project.slug}/security.txt",
        f"/projects/{project.slug}/report/",
        "/.well-known/security.txt",
    ]


def body_of(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


def texts_of(message):
    return [message.subject, message.body, *(content for content, _ in message.alternatives)]


def test_internal_content_never_reaches_the_reporter_side(
    client, scene, project, mailoutbox, django_capture_on_commit_callbacks
):
    report, cast = scene["report"], scene["cast"]
    reporter, collaborator, stranger = cast["reporter"], cast["collaborator"], cast["stranger"]
    triager, maintainer = cast["triager"], cast["maintainer"]
    detail = f"/reports/{report.tracking_id}"
    newcomer = "newcomer@example.org"

    with django_capture_on_commit_callbacks(execute=True):
        # The internal content: a note written by the triager (so the maintainer is emailed), one
        # through the view by the maintainer, and an internal-only event.
        services.add_comment(
            report=report, by=triager, body=f"Internal: {SENTINEL}", internal=True, by_member=True
        )
        event = ReportEvent.objects.create(
            report=report,
            actor=triager,
            kind=ReportEvent.Kind.SEVERITY,
            message=f"Internal event: {SENTINEL}",
            public=False,
            created_at=report.created_at,
        )
        emails.event(event)
        steps = [
            (maintainer, "comment", {"body": f"Members only {SENTINEL}", "internal": "on"}),
            (maintainer, "comment", {"body": "We are looking into it."}),
            (triager, "acknowledge", {"message": "Thanks, received."}),
            (reporter, "comment", {"body": "Any news?"}),
            (maintainer, "triage", {"severity": "high", "message": "Confirmed."}),
            (triager, "request_info", {"message": "Which version?"}),
            (collaborator, "comment", {"body": "Version 2.1."}),  # answers: resumes the report
            (collaborator, "attachments", {"attachments": UPLOAD}),
            (reporter, "collaborators", {"email": newcomer}),
            (maintainer, "start_fix", {"message": "Working on a fix."}),
            (maintainer, "mark_fixed", {"message": "Fixed in 2.2."}),
        ]
        for user, step, data in steps:
            response = request_as(client, user, "post", f"{detail}/{action_path(step)}/", data)
            assert response.status_code == 302, step
    report.refresh_from_db()
    assert report.state == State.FIXED
    assert report.comments.filter(internal=True).count() == 2

    for user in (reporter, collaborator, stranger):
        for path in reporter_side_pages(report, project):
            response = request_as(client, user, "get", path)
            assert response.status_code in (200, 404), (user.email, path)
            assert SENTINEL not in body_of(response), (user.email, path)

    reporter_side = {reporter.email, collaborator.email, stranger.email, newcomer}
    received = [m for m in mailoutbox if reporter_side & set(m.to)]
    assert {reporter.email, collaborator.email, newcomer} <= {a for m in received for a in m.to}
    for message in received:
        for text in texts_of(message):
            assert SENTINEL not in text, (message.to, message.subject)

    # The test can fail: members do see the sentinel, on the page and by email.
    assert SENTINEL in body_of(request_as(client, maintainer, "get", f"{detail}/"))
    to_maintainer = [m for m in mailoutbox if maintainer.email in m.to]
    assert any(SENTINEL in text for m in to_maintainer for text in texts_of(m))


# --- Maintainer identities ----------------------------------------------------------------------


def test_the_reporter_side_sees_the_security_team_not_maintainers(
    client, scene, mailoutbox, django_capture_on_commit_callbacks
):
    report, cast = scene["report"], scene["cast"]
    triager, maintainer = cast["triager"], cast["maintainer"]
    detail = f"/reports/{report.tracking_id}/"
    with django_capture_on_commit_callbacks(execute=True):
        for user, step, data in [
            (triager, "acknowledge", {"message": "Received."}),
            (triager, "comment", {"body": "We are on it."}),
            (maintainer, "triage", {"severity": "low", "message": "Confirmed."}),
            (maintainer, "comment", {"body": "Fix planned."}),
        ]:
            path = f"{detail}{action_path(step)}/"
            assert request_as(client, user, "post", path, data).status_code == 302

    for who in ("reporter", "collaborator"):
        body = body_of(request_as(client, cast[who], "get", detail))
        assert "Acme security team" in body, who
        for member in (triager, maintainer):
            assert member.email not in body, (who, member.email)
    # Members see each other.
    body = body_of(request_as(client, maintainer, "get", detail))
    assert triager.email in body

    reporter_side = {cast["reporter"].email, cast["collaborator"].email}
    received = [m for m in mailoutbox if reporter_side & set(m.to)]
    assert received
    for message in received:
        for text in texts_of(message):
            for member in (triager, maintainer):
                assert member.email not in text, (message.to, message.subject)


def test_a_former_maintainer_stays_the_security_team(client, scene, project):
    """Shown by the side they acted for when they acted: leaving the project later does not
    hand the reporter their address.
    """
    report, cast = scene["report"], scene["cast"]
    maintainer = cast["maintainer"]
    detail = f"/reports/{report.tracking_id}/"
    assert (
        request_as(client, maintainer, "post", f"{detail}comment/", {"body": "On it."}).status_code
        == 302
    )
    path = f"{detail}{action_path('acknowledge')}/"
    assert request_as(client, maintainer, "post", path, {"message": "Got it."}).status_code == 302
    project.memberships.filter(user=maintainer).delete()
    for who in ("reporter", "collaborator"):
        body = body_of(request_as(client, cast[who], "get", detail))
        assert maintainer.email not in body, who
        assert body.count("Acme security team") >= 2, who


def test_a_superuser_acting_on_a_report_shows_as_the_security_team(client, scene):
    report, cast = scene["report"], scene["cast"]
    superuser = cast["superuser"]
    detail = f"/reports/{report.tracking_id}/"
    response = request_as(client, superuser, "post", f"{detail}comment/", {"body": "On it."})
    assert response.status_code == 302
    for who in ("reporter", "collaborator"):
        body = body_of(request_as(client, cast[who], "get", detail))
        assert superuser.email not in body, who
        assert "Acme security team" in body, who


def test_inviting_a_member_does_not_reveal_the_membership(client, scene):
    """A reporter must not learn who the maintainers are by inviting addresses."""
    report, cast = scene["report"], scene["cast"]
    detail = f"/reports/{report.tracking_id}/"
    response = request_as(
        client,
        cast["reporter"],
        "post",
        f"{detail}collaborators/",
        {"email": cast["maintainer"].email},
    )
    assert response.status_code == 302
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "member" not in shown.lower(), shown
