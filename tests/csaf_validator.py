"""BSI's CSAF validator (@secvisogram/csaf-validator-lib, package.json) from the test suite.

    results = validate_csaf([document, ...])   # one Node process for all of them

Each result is {"schema", "mandatory", "recommended"}: the strict CSAF 2.0 schema test, the
mandatory tests (CSAF 2.0 §6.1) and the recommended ones (§6.2, the library's optionalTests),
each a list of {"test", "errors", "warnings"} of the tests that did not pass cleanly (empty when
all passed). The validator runs in Node (tests/csaf_validate.mjs); without node or the package
(`make install` runs npm ci) this raises, so a test that needs it fails instead of skipping.
"""

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "csaf_validate.mjs"
PACKAGE = ROOT / "node_modules" / "@secvisogram" / "csaf-validator-lib"


class MissingValidatorError(RuntimeError):
    pass


def validate_csaf(documents):
    node = shutil.which("node")
    if node is None:
        raise MissingValidatorError("node is not on PATH: BSI's CSAF validator runs in Node.")
    if not (PACKAGE / "package.json").is_file():
        raise MissingValidatorError(f"{PACKAGE} is missing: run `make install` (npm ci).")
    completed = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"csaf_validate.mjs failed:\n{completed.stderr}")
    results = json.loads(completed.stdout)
    assert len(results) == len(documents)
    return results
