"""Regenerate advisories/cwe_catalogue.json from @secvisogram/csaf-validator-lib in node_modules.

Run after upgrading that package (package.json) so the names the exports write are the ones its
test 6.1.11 accepts; commit the regenerated file.
"""

import json
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from advisories.cwe import CATALOGUE_PATH

PACKAGE = "@secvisogram/csaf-validator-lib"

# The package is an ES module; Node itself reads its public `weaknesses` export, so a change
# in how the package lays out its data files does not silently produce an empty catalogue.
DUMP_SCRIPT = """
const root = process.argv[1];
const { weaknesses } = await import(root + '/cwe.js');
const pkg = JSON.parse((await import('node:fs')).readFileSync(root + '/package.json', 'utf8'));
process.stdout.write(JSON.stringify({ version: pkg.version, weaknesses }));
"""


class Command(BaseCommand):
    help = f"Regenerate the vendored CWE catalogue from {PACKAGE} in node_modules."

    def add_arguments(self, parser):
        parser.add_argument(
            "--node-modules",
            default=str(Path(settings.BASE_DIR) / "node_modules"),
            help="node_modules directory holding the package (default: the project's).",
        )

    def handle(self, *args, node_modules, **options):
        root = Path(node_modules) / PACKAGE
        if not (root / "cwe.js").is_file():
            raise CommandError(f"{PACKAGE} is not installed in {node_modules}; run `npm ci`.")
        node = shutil.which("node")
        if node is None:
            raise CommandError("node is not on PATH.")
        completed = subprocess.run(  # noqa: S603 - fixed script, our own path argument
            [node, "--input-type=module", "-e", DUMP_SCRIPT, str(root.resolve())],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise CommandError(f"node failed: {completed.stderr.strip()}")
        dump = json.loads(completed.stdout)
        weaknesses = {entry["id"]: entry["name"] for entry in dump["weaknesses"]}
        if not weaknesses:
            raise CommandError(f"{PACKAGE} exported no weaknesses.")
        catalogue = {
            "source": f"{PACKAGE} {dump['version']} (cwe.js)",
            "weaknesses": dict(sorted(weaknesses.items(), key=lambda item: int(item[0][4:]))),
        }
        CATALOGUE_PATH.write_text(
            json.dumps(catalogue, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        self.stdout.write(f"{len(weaknesses)} weaknesses from {catalogue['source']}.")
