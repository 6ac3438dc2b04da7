"""Every URL of the site, found by walking the resolver, and a seeded world to fill them with.

`routes()` walks `get_resolver().url_patterns` recursively (allauth's and the admin's included)
and turns each pattern into a `Route`: its key (the name with its namespaces, "reports:detail",
or the route itself for unnamed ones such as the admin's catch-all) and a URL template made by
Django's own reversing helper (`normalize`), so path() and re_path() patterns alike can be filled
with any value, hostile ones included.

`seed_world(...)` builds the data the real values come from: a project with a policy and a
version matrix, one open report of the cast's reporter (attachment, collaborator, pending
invitation, pending disclosure proposal, checklist, advisory shared for review), and another
reporter's disclosed report with a published advisory; on the project's side, a spare member
(the one the members page's URLs name: a fuzzing superuser may remove them) and a pending
invitation to join the project. `World.value(route, param)` gives the
real value of a parameter; a parameter it does not know fails the test that asked, so a new kind
of URL parameter must be given a real value here.

Used by tests/disclosure/test_fuzz.py (no 500 for any input) and tests/disclosure/test_url_sweep.py
(no 200 that is not allowed).
"""

import dataclasses
import datetime
import functools
import zlib
from urllib.parse import quote, unquote, urlsplit

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, URLResolver, get_resolver, resolve
from django.utils import timezone
from django.utils.regex_helper import normalize

from advisories import exports
from advisories import services as advisory_services
from advisories.models import ChecklistTemplate
from mailer.models import InboundEmail
from projects import services as project_services
from projects.models import Membership
from reports import services as report_services
from reports.models import Invitation
from tests.advisories.publishing import publish_now
from tests.factories import MembershipFactory, SupportedVersionFactory, UserFactory
from webhooks import services as webhook_services
from webhooks import sweep as webhook_sweep
from webhooks.models import EventType

# Values a client can put where a real one belongs (path parameters, form fields, queries).
NUL = "nul\x00byte"  # 8 characters or more: long enough for a session key
HUGE = "x" * 10_000
HOSTILE = (
    NUL,
    HUGE,
    "../../etc/passwd",
    "ünïcødé ☃ \U0001d518 \u202e",
    "' OR '1'='1' --",
    "99999999999999999999",
)


# URLs that end a signed-in visit: signing out (POST), and allauth's address confirmation, which
# signs out whoever is signed in when the address is someone else's (GET too). Visits request
# them last, in this order.
SIGNS_OUT = ("admin:logout", "account_logout", "account_confirm_email")


@dataclasses.dataclass(frozen=True)
class Route:
    key: str  # "reports:detail"; unnamed patterns: their template ("admin/%(url)s")
    template: str  # "reports/%(tracking_id)s/", without the leading slash
    params: tuple

    def url(self, values):
        """The URL with `values` ({param: value}) percent-encoded into the template."""
        encoded = {name: quote(str(values[name]), safe="") for name in self.params}
        return "/" + self.template % encoded

    @property
    def admin_model(self):
        """The model behind an admin URL ("admin/reports/report/..."), or None."""
        parts = self.template.split("/")
        if parts[0] != "admin" or len(parts) < 4:
            return None
        try:
            return apps.get_model(parts[1], parts[2])
        except LookupError:
            return None


def routes():
    """Every URL pattern of the site, in resolver order but those in SIGNS_OUT last."""
    return sorted(_walk(get_resolver().url_patterns, "", ()), key=_signing_out_last)


def _signing_out_last(route):
    return SIGNS_OUT.index(route.key) + 1 if route.key in SIGNS_OUT else 0


def signs_out(url):
    """Whether requesting `url` (a path, maybe with a query) may end a signed-in visit."""
    try:
        match = resolve(unquote(urlsplit(url).path))
    except Resolver404:
        return False
    return match.view_name in SIGNS_OUT


def _walk(patterns, prefix, namespaces):
    for entry in patterns:
        regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, regex, inner)
            continue
        (template, params), *_ = normalize(regex)
        name = ":".join((*namespaces, entry.name)) if entry.name else None
        yield Route(key=name or template, template=template, params=tuple(params))


@dataclasses.dataclass
class World:
    project: object
    revision: object
    report: object  # the reporter's open report
    disclosed: object  # another reporter's report, disclosed with a published advisory
    attachment: object
    emailed_comment: object  # the reporter's reply by email (its original: members only)
    proposal: object
    fix_review: object
    invitation: object
    collaborator: object
    reporter: object
    authenticator_id: int
    membership: object  # a spare member of the project
    project_invitation: object  # pending, to join the project
    webhook: object  # the project's webhook, with a delivery of each event of the world

    def value(self, route, param):
        """The real value of `param` in `route`; KeyError for a parameter nobody filled yet."""
        model = route.admin_model
        if model is not None and param in {"object_id", "object_pk", "id"}:
            return model.objects.order_by("pk").values_list("pk", flat=True).first() or 1
        if route.key == "account_reset_password_from_key" and param == "key":
            return default_token_generator.make_token(self.reporter)
        if route.key.startswith("projects:") and param in {"token", "invitation_id"}:
            # The project's invitations, not a report's (the same names in both apps).
            return {
                "token": self.project_invitation.token,
                "invitation_id": self.project_invitation.pk,
            }[param]
        return self.values()[param]

    def real(self, route):
        """{param: real value} for every parameter of `route`."""
        return {param: self.value(route, param) for param in route.params}

    @functools.cached_property
    def delivery_id(self):
        # Read once, at the first URL: a sweep that deletes the hook (the superuser may) takes
        # its deliveries with it, and later URLs keep naming the one that was (now a 404).
        return self.webhook.deliveries.order_by("pk").values_list("pk", flat=True)[0]

    def values(self):
        unverified = EmailAddress.objects.get_or_create(
            user=self.collaborator, email="second@example.org", defaults={"verified": False}
        )[0]
        return {
            "slug": self.project.slug,
            "revision_id": self.revision.pk,
            "tracking_id": self.report.tracking_id,
            "attachment_id": self.attachment.pk,
            "comment_id": self.emailed_comment.pk,
            "proposal_id": self.proposal.pk,
            "review_id": self.fix_review.pk,
            "identifier": self.disclosed.advisory.identifier,
            # The CSAF document's §5.1 location (/.well-known/csaf/white/<year>/<filename>).
            "year": exports.csaf_year(self.disclosed.advisory),
            "filename": exports.csaf_filename(self.disclosed.advisory),
            # The CSAF signing key's public half (404 here: the world configures no key).
            "fingerprint": "7B8E4DA4B54B0FD12BCB0915FE19E888EEE96E4C",
            "token": self.invitation.token,
            "invitation_id": self.invitation.pk,
            "membership_id": self.membership.pk,
            "webhook_id": self.webhook.pk,
            "delivery_id": self.delivery_id,
            # allauth's security keys: the reporter's authenticator app (a key of the wrong
            # kind, or someone else's, is 404 there)
            "pk": self.authenticator_id,
            "user_id": self.collaborator.pk,
            "name": "request_info",  # a transition the open report allows
            # An API token to revoke (POST only, the owner's own: any id answers alike).
            "token_id": 1,
            # allauth: an address confirmation key and a password reset key of real accounts
            "key": EmailConfirmationHMAC(unverified).key,
            "uidb36": user_pk_to_url_str(self.reporter),
            # the admin
            "app_label": "reports",
            "content_type_id": ContentType.objects.get_for_model(self.report).pk,
            "object_id": self.report.pk,  # "view on site" of the report (with content_type_id)
            "group_id": 1,
            "url": "nowhere/",
        }


def seed_world(*, project, reporter, maintainer, collaborator, other_reporter):
    """Everything a URL parameter can name (attachments go to settings.ATTACHMENT_ROOT)."""
    revision = project.revisions.get()
    # First, so that it hears of everything below (collected into deliveries at the end).
    webhook = webhook_services.create_webhook(
        project=project,
        url="https://93.184.215.14/hook",  # a public address: saving resolves nothing
        events=list(EventType.values),
        internal=True,
        by=None,
    )
    # TeamMail's rule and Stalwart's review: dates count from the release, the reporter approves.
    project.revisions.update(disclosure_days_after_release=7, reporter_reviews_fix=True)
    revision.refresh_from_db()
    SupportedVersionFactory(revision=revision, series="1.x")
    ChecklistTemplate.objects.create(
        project=project,
        phases=[{"title": "Triage", "tasks": ["Reproduce"], "fields": ["Affected hosts"]}],
    )
    fields = {
        "title": "Heap overflow in the parser",
        "description": "The parser overflows.",
        "steps_to_reproduce": "Send a long header.",
    }
    report = report_services.file_report(project=project, reporter=reporter, fields=fields)
    report_services.add_attachments(
        report=report, by=reporter, files=[SimpleUploadedFile("poc.txt", b"proof\n")]
    )
    shared = report_services.invite_collaborator(
        report=report, by=reporter, email=collaborator.email
    )
    report_services.accept_invitation(token=shared.token, user=collaborator)
    reply = InboundEmail(
        message_id="<reply@example.org>",
        sender=reporter.email,
        outcome=InboundEmail.Outcome.COMMENT,
        size=14,
        raw=zlib.compress(b"Sent by email\n"),
        received_at=timezone.now(),
    )
    emailed = report_services.add_comment(
        report=report,
        by=reporter,
        body="By email.",
        internal=False,
        by_member=False,
        received=reply,
    )
    # A reporter may use a second factor: their authenticator app names a key page's `pk`.
    authenticator = TOTP.activate(reporter, generate_totp_secret()).instance
    report_services.invite_collaborator(report=report, by=reporter, email="invitee@example.org")
    assessment = {"message": "Confirmed.", "severity": "high"}
    report_services.transition(report=report, by=maintainer, name="triage", **assessment)
    advisory_services.start_checklist(report=report, by=maintainer)
    proposal = advisory_services.propose_disclosure(
        report=report,
        by=maintainer,
        date=timezone.localdate() + datetime.timedelta(days=30),
        reason="The fix ships next month.",
    )
    advisory = advisory_services.draft_advisory(report=report, by=maintainer)
    advisory_services.share_for_review(advisory=advisory, by=maintainer)
    review = advisory_services.share_fix(
        report=report,
        by=maintainer,
        fix_url="https://example.org/fix.patch",
        release_on=timezone.localdate(),
        announce_on=timezone.localdate() + datetime.timedelta(days=7),
    )

    disclosed = report_services.file_report(
        project=project, reporter=other_reporter, fields={**fields, "title": "Auth bypass"}
    )
    report_services.transition(report=disclosed, by=maintainer, name="triage", **assessment)
    report_services.transition(report=disclosed, by=maintainer, name="mark_fixed", message="Done.")
    published = advisory_services.draft_advisory(report=disclosed, by=maintainer)
    fixed = {"fixed_versions": ["1.0.1"], "affected_series": ["1.x"]}
    published = advisory_services.update_advisory(advisory=published, by=maintainer, fields=fixed)
    publish_now(published, by=maintainer)
    disclosed.refresh_from_db()

    spare = MembershipFactory(
        project=project,
        user=UserFactory(email="spare-member@example.org"),
        role=Membership.Role.TRIAGER,
    )
    joining = project_services.invite_member(
        project=project, email="project-invitee@example.org", role="maintainer", by=None
    )

    report.refresh_from_db()
    webhook_sweep.collect(now=timezone.now())  # deliveries, not sent
    return World(
        project=project,
        revision=revision,
        report=report,
        disclosed=disclosed,
        attachment=report.attachments.get(),
        emailed_comment=emailed,
        proposal=proposal,
        fix_review=review,
        invitation=Invitation.objects.get(email="invitee@example.org"),
        collaborator=collaborator,
        reporter=reporter,
        authenticator_id=authenticator.pk,
        membership=spare,
        project_invitation=joining,
        webhook=webhook,
    )
