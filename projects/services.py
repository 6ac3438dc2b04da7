"""Writes to projects: seeding the hosted projects from their published policies, and the
project's members.
"""

import tomllib
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction

from projects.access import ADMIN, Role, has_role, role_of
from projects.models import Membership, PolicyRevision, Project, SupportedVersion

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
    if fields.get("cve_threshold") is not None:
        fields["cve_threshold"] = Decimal(fields["cve_threshold"])
    project, project_created = Project.objects.get_or_create(slug=slug, defaults=fields)
    if project_created:
        created.append(f"project {slug}")
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


def _require_project_admin(project, by):
    if not has_role(role_of(by, project), ADMIN):
        raise PermissionDenied(f"Only an admin of {project.name} manages its members.")


def _not_own(user_id, by):
    # Nobody grants, raises or ends their own access: another admin of the project does.
    if user_id == by.pk:
        raise MembershipError("You cannot add, change or remove your own membership.")


def _role(role):
    try:
        return Role(role)
    except ValueError:
        raise MembershipError(f"Unknown role {role!r}.") from None


def check_new_member(*, project, user, by):
    """Whether `by` may make `user` a member of `project`: `by` is an admin of the project (or a
    superuser), `user` is someone else, an active account, not a member yet. Raises
    PermissionDenied or MembershipError; forms call it to show the reason before saving.
    """
    _require_project_admin(project, by)
    _not_own(user.pk, by)
    if not user.is_active:
        raise MembershipError(f"The account of {user.email} is disabled.")
    if Membership.objects.filter(project=project, user=user).exists():
        raise MembershipError(f"{user.email} is already a member of {project.name}.")


@transaction.atomic
def add_member(*, project, user, role, by):
    """Make `user` a member of `project` with `role`, on behalf of an admin of the project."""
    check_new_member(project=project, user=user, by=by)
    return Membership.objects.create(project=project, user=user, role=_role(role))


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
    _not_own(membership.user_id, by)
    membership.role = _role(role)
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership, by):
    """End a membership; only an admin of the project, never their own."""
    membership = _locked_membership(membership)
    _require_project_admin(membership.project, by)
    _not_own(membership.user_id, by)
    membership.delete()
