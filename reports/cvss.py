"""CVSS 3.1 / 4.0 vectors: validation for forms, score and severity with the `cvss` library."""

import dataclasses

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from django.core.exceptions import ValidationError


@dataclasses.dataclass(frozen=True)
class Score:
    version: str
    vector: str
    base_score: float
    severity: str  # None, Low, Medium, High, Critical


def score(vector: str) -> Score:
    """Parse and score `vector`; ValidationError with the library's reason when it is invalid."""
    vector = vector.strip()
    try:
        if vector.startswith("CVSS:3.1/") or vector.startswith("CVSS:3.0/"):
            parsed = CVSS3(vector)
            version = vector[5:8]
            base = float(parsed.base_score)
            return Score(version, parsed.clean_vector(), base, parsed.severities()[0])
        if vector.startswith("CVSS:4.0/"):
            parsed = CVSS4(vector)
            return Score("4.0", parsed.clean_vector(), float(parsed.base_score), parsed.severity)
    except CVSSError as error:
        raise ValidationError(f"Invalid CVSS vector: {error}", code="invalid_cvss") from error
    raise ValidationError(
        'A CVSS vector starts with "CVSS:3.1/" or "CVSS:4.0/".', code="invalid_cvss"
    )


def validate_vector(vector):
    score(vector)
