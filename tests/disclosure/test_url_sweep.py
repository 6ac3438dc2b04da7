"""Deny by default: no URL answers 200 to someone the allow-list below does not name.

Every URL pattern of the site (tests/site_map.py walks the resolver: ours, allauth's, the
admin's) is requested with GET, its parameters filled with real values of a seeded world, by:
- anonymous: not signed in;
- stranger: signed in, no role and no report;
- reporter: signed in, the reporter of one report of the seeded world (with an attachment, a
  pending disclosure proposal and an advisory shared for review), and of nothing else.
Any 200 not allowed by ALLOWED fails. Every URL must be classified here, in ALLOWED or DENIED
(the admin as a whole by its namespace): a URL added later without a decision fails
`test_every_url_is_classified`. Report URLs are requested a second time with another
reporter's (disclosed) report: nobody of the three may see its private pages.
"""

import pytest
from django.http import HttpResponse
from django.urls import path

from disclosure import urls as site_urls
from tests.signin import Client
from tests.site_map import routes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("templates_unrecorded")]

ANYONE = frozenset({"anonymous", "stranger", "reporter"})
SIGNED_IN = frozenset({"stranger", "reporter"})
REPORTER = frozenset({"reporter"})  # the reporter's own report

# Who may get a 200 from each URL. Nobody else may.
ALLOWED = {
    # Public by design (DESIGN §6): the project directory, policies and their security.txt.
    "projects:list": ANYONE,
    "projects:detail": ANYONE,
    "projects:revision": ANYONE,  # published and upcoming revisions are public
    "projects:security_txt": ANYONE,
    "projects:openpgp_public_key": ANYONE,  # the public half of a configured project key
    "security_txt": ANYONE,
    "health": ANYONE,  # {"db": ..., "broker": ...} for the orchestrator, nothing else
    # Published advisories, their feeds and exports, the hall of fame.
    "advisories:project_advisories": ANYONE,
    "advisories:feed": ANYONE,
    "advisories:hall_of_fame": ANYONE,
    "advisories:advisory_page": ANYONE,
    "advisories:osv": ANYONE,
    "advisories:csaf": ANYONE,
    "advisories:csaf_distribution": ANYONE,
    # The CSAF provider (CSAF 2.0 §7): metadata, directory and its listings, ROLIE feed, hashes,
    # signatures and the signing key's public half, all of published advisories only.
    "advisories:csaf_provider_metadata": ANYONE,
    "advisories:csaf_directory": ANYONE,
    "advisories:csaf_year_directory": ANYONE,
    "advisories:csaf_index": ANYONE,
    "advisories:csaf_changes": ANYONE,
    "advisories:csaf_feed": ANYONE,
    "advisories:csaf_sha256": ANYONE,
    "advisories:csaf_sha512": ANYONE,
    "advisories:csaf_signature": ANYONE,
    "advisories:csaf_public_key": ANYONE,
    "advisories:cve": ANYONE,
    "advisories:cve_cna": ANYONE,
    "advisories:osv_all": ANYONE,  # every published OSV record, for OSV.dev and mirrors
    "advisories:project_osv": ANYONE,  # the project's OSV records: id, modified, URL
    # allauth's public pages: signing in and up, password reset, address confirmation (the key
    # from the email is the secret), the notices after those steps.
    "account_login": ANYONE,
    "account_signup": ANYONE,
    "account_reset_password": ANYONE,
    "account_reset_password_done": ANYONE,
    "account_reset_password_from_key": ANYONE,
    "account_reset_password_from_key_done": ANYONE,
    "account_email_verification_sent": ANYONE,
    "account_confirm_email": ANYONE,
    "account_confirm_login_code": ANYONE,
    # Sign-in by a mailed code: how reporters whose account the email gateway made sign in.
    "account_request_login_code": ANYONE,
    "account_inactive": ANYONE,
    "mfa_authenticate": ANYONE,  # the second step of signing in
    "admin:login": ANYONE,  # the admin's sign-in page (everything else there is staff only)
    # The signed-in person's own account: addresses, password, second factor, signing out.
    "account_email": SIGNED_IN,
    "account_change_password": SIGNED_IN,
    "account_set_password": SIGNED_IN,
    "account_logout": SIGNED_IN,  # GET asks to confirm; signing out is a POST
    "projects:profile": SIGNED_IN,  # their own display name
    "account_reauthenticate": SIGNED_IN,
    "account_request_reauthentication_code": SIGNED_IN,
    "account_confirm_reauthentication_code": SIGNED_IN,
    "mfa_index": SIGNED_IN,
    "mfa_reauthenticate": SIGNED_IN,
    "mfa_activate_totp": SIGNED_IN,
    "mfa_deactivate_totp": SIGNED_IN,
    "mfa_view_recovery_codes": SIGNED_IN,
    "mfa_generate_recovery_codes": SIGNED_IN,
    "mfa_download_recovery_codes": SIGNED_IN,
    "mfa_list_webauthn": SIGNED_IN,
    "mfa_add_webauthn": SIGNED_IN,
    "mfa_reauthenticate_webauthn": SIGNED_IN,
    "mfa_remove_webauthn": SIGNED_IN,  # their own keys only: another's is 404
    "mfa_edit_webauthn": SIGNED_IN,
    # Signed-in pages that show only the visitor's own things.
    "reports:list": SIGNED_IN,  # their reports (a stranger's list is empty)
    "reports:intake": SIGNED_IN,  # anyone signed in may report to an active project
    # A button only: the report shows after accepting, with the invited verified address.
    "reports:accept_invitation": SIGNED_IN,
    # The same for joining a project: a button, nothing of the project before accepting.
    "projects:accept_invitation": SIGNED_IN,
    # The reporter's own report: its page, the confirmation after filing, its attachments and
    # the advisory draft once it is shared with them for review.
    "reports:detail": REPORTER,
    "reports:filed": REPORTER,
    "reports:download": REPORTER,
    "advisories:advisory": REPORTER,
    # The API's public side (DESIGN §6): its OpenAPI document and docs, and what the public
    # pages show. Everything else of the API needs a token (401 without one), which none of
    # these visitors sends: a session signs nobody in there.
    "api:schema": ANYONE,
    "api:docs": ANYONE,
    "api:projects": ANYONE,
    "api:project": ANYONE,
    "api:project_advisories": ANYONE,
    "api:hall_of_fame": ANYONE,
    "api:advisory": ANYONE,
    # The signed-in person's own API tokens (the account pages).
    "api:tokens": SIGNED_IN,
}

# Classified, and answering 200 to none of the three.
DENIED = {
    # Project members only: 404 for everyone else.
    "reports:sla_dashboard",
    "reports:original_email",  # the raw message of a comment by email
    "advisories:checklist",
    # The project's admins (and superusers) only: its members, invitations and their history.
    "projects:members",
    "projects:invite_member",
    "projects:change_role",
    "projects:remove_member",
    "projects:revoke_invitation",
    # The project's webhooks (its admins and superusers only): list, settings with the secret,
    # deliveries log; creating, changing, a new secret, deleting, redelivering.
    "webhooks:list",
    "webhooks:detail",
    "webhooks:create",
    "webhooks:update",
    "webhooks:rotate_secret",
    "webhooks:delete",
    "webhooks:redeliver",
    # Actions: POST only, and each refused to those who may not take it.
    "projects:markdown_preview",  # renders what it is sent; nothing stored
    "projects:profile_openpgp_key",  # the signed-in person's own key
    "projects:profile_remove_openpgp_key",
    "reports:comment",
    "reports:score",
    "reports:severity",
    "reports:assign",
    "reports:upload",
    "reports:invite",
    "reports:remove_collaborator",
    "reports:revoke_invitation",
    "reports:credit",
    "reports:transition",
    "reports:mark_spam",
    "advisories:start_checklist",
    "advisories:propose",
    "advisories:respond",
    "advisories:fix_release",
    "advisories:share",
    "advisories:approve",
    "advisories:publish",
    "advisories:schedule",
    "advisories:unschedule",
    "advisories:share_fix",
    "advisories:respond_fix",
    "advisories:amend",
    "advisories:withdraw",
    # The API with a token only (tests/api: every endpoint for every member of the cast).
    "api:reports",
    "api:report",
    "api:comments",
    "api:attachments",
    "api:attachment",
    "api:transition",
    "api:cvss",
    "api:advisory_draft",
    "api:members",
    "api:member",
    "api:revoke_token",  # POST only, the owner's own token
    "api:not_found",  # any other address under /api/: a JSON 404
}


def is_admin(route):
    """The Django admin, as a whole: staff only behind its own gate (admin:login aside)."""
    return route.key.startswith("admin:") or route.template.startswith("admin/")


def allowed(route):
    """Who may get a 200 from `route`; KeyError when nobody decided."""
    if route.key in ALLOWED:
        return ALLOWED[route.key]
    if route.key in DENIED or is_admin(route):
        return frozenset()
    raise KeyError(route.key)


# Pages these visitors must see: the sweep is only as good as the values it fills in.
MUST_SEE = {
    "anonymous": {
        "projects:list",
        "projects:detail",
        "projects:revision",
        "projects:security_txt",
        "security_txt",
        "advisories:project_advisories",
        "advisories:feed",
        "advisories:hall_of_fame",
        "advisories:advisory_page",
        "advisories:osv",
        "advisories:csaf",
        "advisories:csaf_distribution",
        "advisories:csaf_provider_metadata",
        "advisories:csaf_directory",
        "advisories:csaf_year_directory",
        "advisories:csaf_index",
        "advisories:csaf_changes",
        "advisories:csaf_feed",
        "advisories:csaf_sha256",
        "advisories:csaf_sha512",
        "advisories:osv_all",
        "advisories:project_osv",
        "api:schema",
        "api:docs",
        "api:projects",
        "api:project",
        "api:project_advisories",
        "api:hall_of_fame",
        "api:advisory",
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_confirm_email",
    },
    "stranger": {
        "reports:list",
        "reports:intake",
        "account_email",
        "projects:accept_invitation",
        "api:tokens",
    },
    "reporter": {
        "reports:list",
        "reports:detail",
        "reports:filed",
        "reports:download",
        "advisories:advisory",
    },
}


def test_every_url_is_classified():
    keys = [route.key for route in routes()]
    unclassified = []
    for route in routes():
        try:
            allowed(route)
        except KeyError:
            unclassified.append(route.key)
    assert not unclassified, f"decide who may see these, in ALLOWED or DENIED: {unclassified}"
    stale = (set(ALLOWED) | DENIED) - set(keys)
    assert not stale, f"no such URL any more: {sorted(stale)}"
    assert not set(ALLOWED) & DENIED


def test_a_new_url_without_a_decision_is_unclassified(settings):
    settings.ROOT_URLCONF = "tests.disclosure.test_url_sweep"  # the site plus one page
    new = [route for route in routes() if route.key == "brand_new_page"]
    assert len(new) == 1
    with pytest.raises(KeyError):
        allowed(new[0])


urlpatterns = [
    *site_urls.urlpatterns,
    path("brand-new/", lambda request: HttpResponse("hello"), name="brand_new_page"),
]


def get(client, url):
    response = client.get(url)
    if response.streaming:  # read to the end: the client then closes it as a server does
        b"".join(response.streaming_content)
    return response.status_code


@pytest.mark.parametrize("who", ["anonymous", "stranger", "reporter"])
def test_no_url_answers_200_unless_allowed(world, stranger, reporter, who):
    client = Client(raise_request_exception=False)
    user = {"anonymous": None, "stranger": stranger, "reporter": reporter}[who]
    if user is not None:
        client.sign_in(user)
    leaks, seen = [], set()
    for route in routes():
        real = world.real(route)
        status = get(client, route.url(real))
        if status == 200:
            seen.add(route.key)
            if who not in allowed(route):
                leaks.append(f"{route.key}: {route.url(real)}")
        if "tracking_id" in route.params:
            # Another reporter's report: nothing of it is for these visitors.
            foreign = route.url({**real, "tracking_id": world.disclosed.tracking_id})
            if get(client, foreign) == 200:
                leaks.append(f"{route.key} of another reporter's report: {foreign}")
    assert not leaks, "\n".join(leaks)
    assert MUST_SEE.get(who, set()) <= seen, MUST_SEE[who] - seen
