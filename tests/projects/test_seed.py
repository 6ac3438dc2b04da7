import datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

import projects
from projects.models import Membership, PolicyRevision, Project, SupportedVersion
from projects.services import SEED_DIR

pytestmark = pytest.mark.django_db


def snapshot():
    """Every seeded row with every value, so a second run that changes anything shows up."""
    return {
        model.__name__: sorted(
            (str(sorted(model_to_dict(row).items(), key=str)), getattr(row, "updated_at", None))
            for row in model.objects.all()
        )
        for model in (Project, PolicyRevision, SupportedVersion, Membership)
    }


@pytest.fixture
def seeded(db):
    call_command("seed_projects", verbosity=0)


def matrix(revision, on):
    return [(v.series, v.is_supported_on(on)) for v in revision.versions.all()]


def test_seed_creates_the_three_projects(seeded):
    assert list(Project.objects.order_by("slug").values_list("slug", "tracking_prefix")) == [
        ("mailtri-router", "MTR"),
        ("stalwart", "STW"),
        ("teammail", "TMM"),
    ]


def test_seed_is_idempotent(seeded, capsys):
    before = snapshot()
    call_command("seed_projects")
    assert snapshot() == before
    assert "nothing changed" in capsys.readouterr().out


def test_stalwart_has_two_revisions_and_a_four_row_matrix(seeded):
    stalwart = Project.objects.get(slug="stalwart")
    assert [r.effective_from for r in stalwart.revisions.order_by("effective_from")] == [
        datetime.date(2025, 6, 20),
        datetime.date(2025, 7, 16),
    ]
    current = stalwart.revision_in_force()
    assert current.versions.count() == 4
    # By today's date (after 2025-12-31) only 0.13.x is supported.
    assert matrix(current, datetime.date.today()) == [  # noqa: DTZ011 - the real today
        ("0.13.x", True),
        ("0.12.x", False),
        ("0.11.x", False),
        ("< 0.11", False),
    ]
    assert matrix(current, datetime.date(2025, 12, 31)) == [
        ("0.13.x", True),
        ("0.12.x", True),
        ("0.11.x", True),
        ("< 0.11", False),
    ]


def test_stalwart_policy_values(seeded):
    stalwart = Project.objects.get(slug="stalwart")
    revision = stalwart.revision_in_force()
    assert (revision.ack_hours, revision.detail_hours, revision.update_days) == (24, 72, 7)
    assert revision.resolve_days == 90
    assert revision.disclosure_days_after_report == 90
    assert revision.early_disclosure_if_exploited is True
    assert (stalwart.backup_email, stalwart.backup_after_hours) == ("hello@stalw.art", 48)
    assert str(stalwart.cve_threshold) == "4.0"
    assert "Social engineering attacks" in revision.scope_out
    assert "Official Docker images" in revision.scope_in
    assert "Initiate legal action against you" in revision.safe_harbor
    assert "Hall of Fame" in revision.recognition
    assert revision.intake_required == [
        "vulnerability_type",
        "affected_versions",
        "affected_components",
        "steps_to_reproduce",
        "impact",
    ]
    assert revision.intake_helpful == [
        "file_paths",
        "commit_branch",
        "configuration",
        "proof_of_concept",
        "suggested_fix",
    ]


def test_stalwart_older_revision_has_its_own_matrix(seeded):
    older = Project.objects.get(slug="stalwart").revision_in_force(on=datetime.date(2025, 7, 1))
    assert older.effective_from == datetime.date(2025, 6, 20)
    assert [(v.series, v.supported, v.end_of_support) for v in older.versions.all()] == [
        ("0.12.x", True, None),
        ("0.11.x", True, datetime.date(2025, 12, 31)),
        ("< 0.11", False, None),
    ]


def test_teammail_policy_values(seeded):
    revision = Project.objects.get(slug="teammail").revision_in_force()
    assert revision.ack_hours == 14 * 24
    assert revision.fix_days == 14
    assert revision.disclosure_days_after_release == 7
    assert revision.disclosure_days_after_report is None
    assert revision.reporter_reviews_fix is True
    assert "Threat model" in revision.additional_text
    assert revision.versions.count() == 0


def test_mailtri_router_policy_values(seeded):
    project = Project.objects.get(slug="mailtri-router")
    revision = project.revision_in_force()
    assert (revision.ack_hours, revision.detail_hours) == (24, 72)
    assert revision.subject_tag == "[SECURITY] mailtri-router vulnerability report"
    assert [(f["name"], f["required"]) for f in revision.intake_extra_fields] == [
        ("os", True),
        ("nodejs_version", True),
        ("aws_region", True),
    ]
    assert matrix(revision, datetime.date(2026, 11, 23)) == [("1.x.x", True), ("< 1.0", False)]
    assert "hall of fame" in revision.recognition.lower()


def test_seed_data_ships_with_the_project():
    """The data belongs to the project's package, not to ../shared read at run time."""
    assert Path(projects.__file__).parent / "seeds" == SEED_DIR
    assert sorted(p.name for p in SEED_DIR.glob("*.toml")) == [
        "mailtri-router.toml",
        "stalwart.toml",
        "teammail.toml",
    ]
