import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from projects.models import SupportStatus
from tests.factories import PolicyRevisionFactory, ProjectFactory, SupportedVersionFactory

pytestmark = pytest.mark.django_db


def day(text):
    return datetime.date.fromisoformat(text)


def test_revision_in_force_is_latest_effective_not_after_the_day():
    project = ProjectFactory()
    first = PolicyRevisionFactory(project=project, effective_from=day("2025-06-20"))
    second = PolicyRevisionFactory(project=project, effective_from=day("2025-07-16"))
    PolicyRevisionFactory(project=project, effective_from=day("2027-01-01"))  # upcoming

    assert project.revision_in_force(on=day("2025-06-19")) is None
    assert project.revision_in_force(on=day("2025-06-20")) == first
    assert project.revision_in_force(on=day("2025-07-15")) == first
    assert project.revision_in_force(on=day("2025-07-16")) == second
    assert project.revision_in_force(on=day("2026-12-31")) == second


def test_revision_in_force_defaults_to_today():
    project = ProjectFactory()
    old = PolicyRevisionFactory(project=project, effective_from=day("2025-01-01"))
    new = PolicyRevisionFactory(project=project, effective_from=day("2026-03-01"))
    with time_machine.travel(datetime.datetime(2026, 2, 28, 23, 0, tzinfo=datetime.UTC)):
        assert project.revision_in_force() == old
    with time_machine.travel(datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.UTC)):
        assert project.revision_in_force() == new


@pytest.mark.parametrize(
    ("supported", "end_of_support", "on", "expected"),
    [
        (True, None, "2030-01-01", SupportStatus.SUPPORTED),  # TBD stays supported
        (True, "2025-12-31", "2025-12-30", SupportStatus.SUPPORTED_UNTIL),
        (True, "2025-12-31", "2025-12-31", SupportStatus.SUPPORTED_UNTIL),  # last supported day
        (True, "2025-12-31", "2026-01-01", SupportStatus.ENDED),
        (False, None, "2020-01-01", SupportStatus.ENDED),  # listed as ended
    ],
)
def test_matrix_status_follows_the_date(supported, end_of_support, on, expected):
    version = SupportedVersionFactory(
        supported=supported, end_of_support=end_of_support and day(end_of_support)
    )
    assert version.status_on(day(on)) is expected
    assert version.is_supported_on(day(on)) is (expected is not SupportStatus.ENDED)


def test_revision_in_force_cannot_be_changed():
    revision = PolicyRevisionFactory(effective_from=day("2025-01-01"))
    revision.ack_hours = 1
    with pytest.raises(ValidationError, match="in force and cannot be changed"):
        revision.full_clean()


def test_upcoming_revision_can_still_be_edited():
    revision = PolicyRevisionFactory(effective_from=day("2099-01-01"))
    revision.ack_hours = 12
    revision.full_clean()  # no error
    assert not revision.is_locked()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("intake_required", ["steps_to_reproduce", "favourite_colour"], "Unknown field"),
        ("intake_helpful", "proof_of_concept", "list of field keys"),
        ("intake_extra_fields", [{"name": "os", "label": "OS"}], "Bad entry"),
        ("intake_extra_fields", [{"name": "impact", "label": "x", "required": True}], "Bad entry"),
    ],
)
def test_intake_configuration_is_validated(field, value, message):
    revision = PolicyRevisionFactory.build(
        project=ProjectFactory(), effective_from=day("2099-01-01"), **{field: value}
    )
    with pytest.raises(ValidationError, match=message):
        revision.full_clean()


def test_intake_fields_list_required_helpful_then_extra():
    revision = PolicyRevisionFactory(
        intake_required=["impact"],
        intake_helpful=["suggested_fix"],
        intake_extra_fields=[{"name": "os", "label": "Operating system", "required": True}],
    )
    fields = [(f.name, f.required) for f in revision.intake_fields()]
    assert fields == [("impact", True), ("suggested_fix", False), ("os", True)]


def test_sla_commitments_and_disclosure_rule_read_like_the_policy():
    revision = PolicyRevisionFactory(
        ack_hours=24,
        detail_hours=336,
        update_days=7,
        resolve_days=90,
        disclosure_days_after_report=90,
        early_disclosure_if_exploited=True,
    )
    assert revision.sla_commitments() == [
        ("Acknowledgment", "within 24 hours"),
        ("Detailed response", "within 14 days"),
        ("Status updates", "every 7 days until resolved"),
        ("Resolution target", "within 90 days"),
    ]
    assert revision.disclosure_rule() == (
        "Public disclosure 90 days after the report, earlier if the vulnerability is actively "
        "exploited."
    )
