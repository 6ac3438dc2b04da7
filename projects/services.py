"""Writes to projects: seeding the hosted projects from their published policies."""

import tomllib
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from projects.models import PolicyRevision, Project, SupportedVersion

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
