"""Writes to projects: seeding the hosted projects from their published policies, and the
project's members: invitations, the claim of a project nobody holds, roles, removals.

Every change of a project's members runs in one transaction, writes a ProjectEvent (the
append-only audit trail the members page shows) and emails the person concerned through the
outbox, delivered after commit.
"""

import datetime
import secrets
import tomllib
from decimal import Decimal
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects import emails
from projects.access import ADMIN, Role, is_own_membership, manages_members, role_of
from projects.models import (
    IntakeAddress,
    Membership,
    PolicyRevision,
    Profile,
    Project,
    ProjectEvent,
    ProjectInvitation,
    SupportedVersion,
)
from projects.selectors import verified_owners

Event = ProjectEvent.Kind

SEED_DIR = Path(__file__).resolve().parent / "seeds"
SEED_FILES = ("stalwart.toml", "teammail.toml", "mailtri-router.toml")

TEXT_FIELDS = (
    "introduction", "how_to_report", "sla_text", "disclosure_text", "versions_note", "scope_in",
    "scope_out", "safe_harbor", "recognition", "additional_text",
)  # fmt: skip


def load_seed(name):
    with (SEED_DIR / name).open("rb") as handle:
        return tomllib.load(handle)


def _revision_values(seed):
    """PolicyRevision fields shared by every revision of a seed file."""
    text, intake, sla, disclosure = seed["text"], seed["intake"], seed["sla"], seed["disclosure"]
    values = {field: text.get(field, "").strip() for field in TEXT_FIELDS}
    values.update(
        subject_tag=intake.get("subject_tag", ""),
        intake_required=intake["required"],
        intake_helpful=intake["helpful"],
        intake_extra_fields=intake["extra_fields"],
        ack_hours=sla.get("ack_hours"),
        detail_hours=sla.get("detail_hours"),
        update_days=sla.get("update_days"),
        fix_days=sla.get("fix_days"),
        resolve_days=sla.get("resolve_days"),
        # Only a policy that says so closes reports waiting for the reporter.
        needs_info_close_days=sla.get("needs_info_close_days"),
        disclosure_days_after_report=disclosure.get("days_after_report"),
        disclosure_days_after_release=disclosure.get("days_after_release"),
        early_disclosure_if_exploited=disclosure["early_if_exploited"],
        reporter_reviews_fix=disclosure["reporter_reviews_fix"],
    )
    return values


@transaction.atomic
def seed_project(*, seed):
    """Create the project and any revision it lacks; never alter what exists.

    Revisions in force are immutable and admins may have edited the project, so running the seed
    again changes nothing. Returns a list of what was created.
    """
    created = []
    fields = dict(seed["project"])
    slug = fields.pop("slug")
    intake_addresses = fields.pop("intake_addresses", [])
    if fields.get("cve_threshold") is not None:
        fields["cve_threshold"] = Decimal(fields["cve_threshold"])
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        # Held to the admin's rules (the package identity's among them): a seed that states a
        # purl of the wrong ecosystem fails here, not in every export.
        project = Project(slug=slug, **fields)
        project.full_clean()
        project.save()
        created.append(f"project {slug}")
    for address in intake_addresses:
        _, address_created = IntakeAddress.objects.get_or_create(
            address=address.lower(), defaults={"project": project}
        )
        if address_created:
            created.append(f"{slug} intake address {address}")
    existing = set(project.revisions.values_list("effective_from", flat=True))
    shared = _revision_values(seed)
    for entry in seed["revisions"]:
        if entry["effective_from"] in existing:
            continue
        revision = PolicyRevision(
            project=project,
            effective_from=entry["effective_from"],
            source_url=entry.get("source_url", ""),
            effective_statement=entry.get("effective_statement", "").strip(),
            **shared,
        )
        revision.full_clean()
        revision.save()
        SupportedVersion.objects.bulk_create(
            SupportedVersion(
                revision=revision,
                series=row["series"],
                order=order,
                supported=row["supported"],
                end_of_support=row.get("end_of_support"),
            )
            for order, row in enumerate(entry["versions"])
        )
        created.append(f"{slug} revision {entry['effective_from']:%Y-%m-%d}")
    return created


def seed_projects():
    """The three hosted projects the platform starts with."""
    created = []
    for name in SEED_FILES:
        created += seed_project(seed=load_seed(name))
    return created


# --- Members ------------------------------------------------------------------------------------


class MembershipError(Exception):
    """A membership change the rules refuse; the message is shown to the user."""


# Every refusal to accept an invitation reads the same: whether the token exists, was used,
# revoked or expired, or was sent to someone else is nobody's business but the inviter's.
INVITATION_REFUSED = (
    "This invitation is not valid for your account: it may have expired, been used or been "
    "revoked, or it was sent to another address."
)


def _require_project_admin(project, by):
    if not manages_members(role_of(by, project)):
        raise PermissionDenied(f"Only an admin of {project.name} manages its members.")


def _not_own(membership, by):
    if is_own_membership(membership, by):
        raise MembershipError("You cannot add, change or remove your own membership.")


def _role(role):
    try:
        return Role(role)
    except ValueError:
        raise MembershipError(f"Unknown role {role!r}.") from None


def _label(role):
    return Role(role).label.lower()


def _record(project, *, actor, kind, message):
    """Append to the project's audit trail."""
    return ProjectEvent.objects.create(
        project=project, actor=actor, kind=kind, message=message, created_at=timezone.now()
    )


def check_new_member(*, project, user, by):
    """Whether `by` may make `user` a member of `project`: `by` is an admin of the project (or a
    superuser), `user` is someone else, an active account, not a member yet. Raises
    PermissionDenied or MembershipError; forms call it to show the reason before saving.
    """
    _require_project_admin(project, by)
    _not_own(Membership(project=project, user=user), by)
    if not user.is_active:
        raise MembershipError(f"The account of {user.email} is disabled.")
    if Membership.objects.filter(project=project, user=user).exists():
        raise MembershipError(f"{user.email} is already a member of {project.name}.")


@transaction.atomic
def add_member(*, project, user, role, by):
    """Make `user` a member of `project` with `role`, on behalf of an admin of the project
    (the Django admin names an account by its verified address; the site invites instead).
    """
    check_new_member(project=project, user=user, by=by)
    membership = Membership.objects.create(project=project, user=user, role=_role(role))
    _record(
        project,
        actor=by,
        kind=Event.MEMBER_ADDED,
        message=f"{user.email} added as {_label(role)}",
    )
    emails.membership_notice(
        project,
        to=user.email,
        subject=f"You are now {_label(role)} of the project",
        message=f"An admin of {project.name} made you a member of the project, as {_label(role)}.",
        role=role,
    )
    return membership


def _locked_membership(membership):
    return (
        Membership.objects.select_for_update()
        .select_related("project", "user")
        .get(pk=membership.pk)
    )


@transaction.atomic
def change_role(*, membership, role, by):
    """Give a member another role; only an admin of the project, never on their own membership."""
    membership = _locked_membership(membership)
    _require_project_admin(membership.project, by)
    _not_own(membership, by)
    role, before = _role(role), Role(membership.role)
    if role == before:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    project, user = membership.project, membership.user
    _record(
        project,
        actor=by,
        kind=Event.ROLE_CHANGED,
        message=f"{user.email}: {_label(before)} → {_label(role)}",
    )
    emails.membership_notice(
        project,
        to=user.email,
        subject=f"Your role is now {_label(role)}",
        message=f"An admin of {project.name} changed your role in the project from "
        f"{_label(before)} to {_label(role)}.",
        role=role,
    )
    return membership


@transaction.atomic
def remove_member(*, membership, by):
    """End a membership; only an admin of the project, never their own."""
    membership = _locked_membership(membership)
    _require_project_admin(membership.project, by)
    _not_own(membership, by)
    project, user, role = membership.project, membership.user, membership.role
    membership.delete()
    _record(
        project,
        actor=by,
        kind=Event.MEMBER_REMOVED,
        message=f"{user.email} removed (was {_label(role)})",
    )
    emails.membership_notice(
        project,
        to=user.email,
        subject="You are no longer a member of the project",
        message=f"An admin of {project.name} removed you from the project (you were "
        f"{_label(role)}): you no longer see its reports.",
    )


# --- Invitations --------------------------------------------------------------------------------


def _open_invitations(project, email):
    return ProjectInvitation.objects.filter(
        project=project, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    )


def _create_invitation(project, *, email, role, by, now):
    """A new invitation, once no open one is pending for the address: an expired one makes way
    (one open invitation per project and address, a constraint).
    """
    _open_invitations(project, email).update(revoked_at=now)
    return ProjectInvitation.objects.create(
        project=project,
        email=email,
        role=role,
        invited_by=by,
        token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.PROJECT_INVITATION_MAX_AGE_DAYS),
    )


def _address(email):
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise MembershipError(f"{email!r} is not an email address.") from None
    return email


def _member_with_address(project, email):
    """The project's membership of the account owning `email` (its login or a verified address)."""
    owners = verified_owners(email)
    return (
        Membership.objects.filter(project=project)
        .filter(Q(user__email__iexact=email) | Q(user__in=owners))
        .select_related("user")
        .first()
    )


@transaction.atomic
def invite_member(*, project, email, role, by):
    """Invite `email` to join `project` with `role`: a link sent to that address, accepted by
    whoever signs in with it verified (accept_invitation), once, within
    PROJECT_INVITATION_MAX_AGE_DAYS.

    `by`: an admin of the project (or a superuser); None: the platform, for operators
    (`manage.py invite_member`). One pending invitation per address: a second one is refused
    until the first is revoked or expires.
    """
    if by is not None:
        _require_project_admin(project, by)
    role, email = _role(role), _address(email)
    now = timezone.now()
    project = Project.objects.select_for_update().get(pk=project.pk)  # invitations queue here
    if by is not None and (
        by.email.lower() == email
        or EmailAddress.objects.filter(user=by, email__iexact=email).exists()
    ):
        raise MembershipError("You cannot invite yourself: another admin of the project does.")
    member = _member_with_address(project, email)
    if member is not None:
        raise MembershipError(
            f"{email} is already a member of {project.name} ({_label(member.role)}); change "
            "their role instead."
        )
    if _open_invitations(project, email).filter(expires_at__gt=now).exists():
        raise MembershipError(
            f"{email} has been invited already; revoke that invitation to send another."
        )
    invitation = _create_invitation(project, email=email, role=role, by=by, now=now)
    _record(
        project,
        actor=by,
        kind=Event.INVITED,
        message=f"{email} invited as {_label(role)}"
        + (" by an operator of the platform" if by is None else ""),
    )
    emails.invitation(invitation)
    return invitation


@transaction.atomic
def invite_security_contact(*, project):
    """The claim of a project nobody holds: while `project` has no active member, invite its
    security contact to join as its ADMIN, by the platform. Reports' intake calls this in the
    transaction that files a report (so the first report to such a project brings the people
    who can read it), with the project row locked.

    One invitation at a time: nothing is sent while one to that address is pending, whatever
    its role; an expired one is replaced. Returns the new invitation, or None.
    """
    now = timezone.now()
    if Membership.objects.filter(project=project, user__is_active=True).exists():
        return None
    email = project.security_email.strip().lower()
    if _open_invitations(project, email).filter(expires_at__gt=now).exists():
        return None
    invitation = _create_invitation(project, email=email, role=ADMIN, by=None, now=now)
    _record(
        project,
        actor=None,
        kind=Event.INVITED,
        message=f"{email} (the security contact) invited as admin to claim the project: a "
        "report arrived while it had no member",
    )
    emails.invitation(invitation, claim=True)
    return invitation


def verified_addresses(user):
    return {
        address.lower()
        for address in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }


@transaction.atomic
def accept_invitation(*, token, user):
    """The invited person, signed in with the invited address verified, joins the project with
    the invited role (a member already keeps a higher role; an invitation never lowers one).

    Once only, before it expires and unless it was revoked; every refusal reads the same
    (INVITATION_REFUSED). Returns the membership.
    """
    now = timezone.now()
    invitation = (
        ProjectInvitation.objects.pending(now=now)
        .select_for_update()
        .select_related("project")
        .filter(token=token)
        .first()
    )
    if invitation is None or not user.is_active or invitation.email not in verified_addresses(user):
        raise MembershipError(INVITATION_REFUSED)
    invitation.accepted_at = now
    invitation.save(update_fields=["accepted_at"])
    project, role = invitation.project, Role(invitation.role)
    membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
    if membership is None:
        membership = Membership.objects.create(project=project, user=user, role=role)
        outcome = f"joined as {_label(role)}"
    elif Membership.RANK[role] > Membership.RANK[Role(membership.role)]:
        outcome = f"is now {_label(role)} (was {_label(membership.role)})"
        membership.role = role
        membership.save(update_fields=["role"])
    else:
        outcome = f"stays {_label(membership.role)}"
    _record(
        project,
        actor=user,
        kind=Event.INVITATION_ACCEPTED,
        message=f"{user.email} accepted the invitation sent to {invitation.email} and {outcome}",
    )
    return membership


@transaction.atomic
def revoke_invitation(*, invitation, by):
    """Withdraw a pending invitation: its link stops working. Only an admin of the project."""
    _require_project_admin(invitation.project, by)
    invitation = (
        ProjectInvitation.objects.pending(now=timezone.now())
        .select_for_update()
        .select_related("project")
        .filter(pk=invitation.pk)
        .first()
    )
    if invitation is None:
        raise MembershipError("That invitation cannot be revoked: it is no longer pending.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    project = invitation.project
    _record(
        project,
        actor=by,
        kind=Event.INVITATION_REVOKED,
        message=f"Invitation of {invitation.email} as {_label(invitation.role)} revoked",
    )
    emails.membership_notice(
        project,
        to=invitation.email,
        subject="Your invitation was withdrawn",
        message=f"An admin of {project.name} withdrew the invitation to join the project as "
        f"{_label(invitation.role)}: its link no longer works.",
    )


# --- People -------------------------------------------------------------------------------------


class ProfileError(ValidationError):
    """A display name the rules refuse; the message is shown to the user."""


def _check_display_name(name):
    if any(not character.isprintable() for character in name):
        raise ProfileError("A display name is one line of printable characters.")
    try:
        validate_email(name)
    except ValidationError:
        pass
    else:
        raise ProfileError(
            "Use a name, not an email address: the display name is shown where your address is not."
        )
    if "security team" in name.lower():
        # The reporter side sees the people acting for a project as "<project> security team".
        raise ProfileError(
            '"Security team" names a project\'s team on this site; choose your own name.'
        )


@transaction.atomic
def set_display_name(*, user, display_name):
    """Store what `user` wants to be called (blank: no display name; each audience is then shown
    what it may see, never a name made from the address).
    """
    name = " ".join(display_name.split())
    if name:
        _check_display_name(name)
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    profile.display_name = name
    profile.save(update_fields=["display_name", "updated_at"])
    return profile
