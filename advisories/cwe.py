"""Official CWE names, from the catalogue BSI's CSAF validator checks against.

CSAF mandatory test 6.1.11 rejects a `cwe.name` that differs from the name the validator's own
catalogue gives the id, so the names come from that catalogue (vendored in cwe_catalogue.json by
`manage.py refresh_cwe_catalogue`) rather than from a newer MITRE release the validator may not
know yet. The app reads the vendored file; production needs no Node packages.
"""

import json
from functools import cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("cwe_catalogue.json")


@cache
def catalogue() -> dict[str, str]:
    """Every known weakness: id ("CWE-79") to its official name."""
    with CATALOGUE_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)["weaknesses"]


def name_of(cwe_id: str) -> str | None:
    """The official name of a CWE id such as "CWE-79", or None when the catalogue lacks it."""
    return catalogue().get(cwe_id)
