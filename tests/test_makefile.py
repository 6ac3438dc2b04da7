"""`make run PORT=…`: the server listens on PORT and SITE_URL follows it (unless set).

make runs for real, with BIN pointing at a stand-in python that records its arguments and the
SITE_URL it was given, and the install stamps already made (nothing is installed).
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def make_run(tmp_path, *arguments, site_url=None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\necho "$SITE_URL $*" >> {log}\n')
    python.chmod(0o755)
    stamps = [tmp_path / "installed", tmp_path / "node-installed"]
    for stamp in stamps:
        stamp.touch()  # newer than pyproject.toml and package.json: nothing to install
    env = {key: value for key, value in os.environ.items() if key not in {"SITE_URL", "PORT"}}
    if site_url:
        env["SITE_URL"] = site_url
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "run",
            f"BIN={bin_dir}",
            f"INSTALLED={stamps[0]}",
            f"NODE_INSTALLED={stamps[1]}",
            *arguments,
        ],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return log.read_text().splitlines()


def test_make_run_serves_on_port_with_site_url_following(tmp_path):
    assert make_run(tmp_path, "PORT=8123") == [
        "http://127.0.0.1:8123 manage.py migrate --noinput",
        "http://127.0.0.1:8123 manage.py seed_projects",
        "http://127.0.0.1:8123 manage.py ensure_admin",
        "http://127.0.0.1:8123 manage.py runserver 127.0.0.1:8123",
    ]


def test_make_run_defaults_to_port_8000(tmp_path):
    assert make_run(tmp_path)[-1] == "http://127.0.0.1:8000 manage.py runserver 127.0.0.1:8000"


@pytest.mark.parametrize("port", ["8123", "9000"])
def test_a_site_url_of_the_environment_wins(tmp_path, port):
    calls = make_run(tmp_path, f"PORT={port}", site_url="https://disclosure.example.org")
    assert calls[-1] == f"https://disclosure.example.org manage.py runserver 127.0.0.1:{port}"


def test_the_license_is_an_spdx_string_and_the_build_backend_reads_it():
    """A TOML table as license makes setuptools warn on every install (deprecated, PEP 639)."""
    import tomllib

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "AGPL-3.0-or-later"
    assert pyproject["build-system"]["requires"] == ["setuptools>=77"]
