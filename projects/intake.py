"""The catalogue of report fields a policy can ask for.

Policies name standard fields by key (so reports can store them in known columns and every
project's form looks alike) and may add project-specific extra fields (mailtri-router asks for
the OS, Node.js version and AWS region).
"""

import dataclasses
import re

from django.core.exceptions import ValidationError

STANDARD_FIELDS = {
    "vulnerability_type": "Vulnerability type",
    "affected_versions": "Affected version(s)",
    "affected_components": "Affected components",
    "description": "Description",
    "steps_to_reproduce": "Steps to reproduce",
    "impact": "Impact (what could an attacker achieve?)",
    "file_paths": "Full paths of affected source files",
    "commit_branch": "Commit or branch where the issue exists",
    "configuration": "Configuration required to reproduce",
    "proof_of_concept": "Proof of concept",
    "suggested_fix": "Suggested mitigation or fix",
}

EXTRA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclasses.dataclass(frozen=True)
class IntakeField:
    name: str
    label: str
    required: bool
    standard: bool


def validate_field_keys(keys, where):
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ValidationError({where: "Give a list of field keys."})
    unknown = sorted(set(keys) - STANDARD_FIELDS.keys())
    if unknown:
        raise ValidationError(
            {where: f"Unknown field(s): {', '.join(unknown)}. Known: {', '.join(STANDARD_FIELDS)}."}
        )


def validate_extra_fields(extra):
    message = 'Give a list of {"name": ..., "label": ..., "required": true|false} objects.'
    if not isinstance(extra, list):
        raise ValidationError({"intake_extra_fields": message})
    for item in extra:
        if (
            not isinstance(item, dict)
            or set(item) != {"name", "label", "required"}
            or not isinstance(item["name"], str)
            or not EXTRA_NAME.match(item["name"])
            or item["name"] in STANDARD_FIELDS
            or not isinstance(item["label"], str)
            or not isinstance(item["required"], bool)
        ):
            raise ValidationError({"intake_extra_fields": f"{message} Bad entry: {item!r}"})


def fields_for(*, required, helpful, extra):
    """Required standard fields, then helpful ones, then the project's extra fields."""
    fields = [IntakeField(key, STANDARD_FIELDS[key], True, True) for key in required]
    fields += [IntakeField(key, STANDARD_FIELDS[key], False, True) for key in helpful]
    fields += [IntakeField(i["name"], i["label"], i["required"], False) for i in extra]
    return fields
