"""The image's build context is an allow-list: nothing private can reach `docker build`.

Without a .dockerignore, `COPY . .` put var/ (the development database and private report
attachments), .venv, .git and any .env file into the image. .dockerignore now starts with `*`
(everything out) and lets back in, with `!`, only what the image runs; the Dockerfile COPYs
exactly those paths, the apps before `pip install .`.

The context is computed by docker-py's own implementation of Docker's rules
(docker.utils.build.exclude_paths: patterns in order, a later one overrides an earlier one, `!`
lets back in, `**` spans directories, a directory's exclusion covers what is inside). Like the
classic builder, it always sends the Dockerfile and .dockerignore themselves; neither is copied
into the image. The self-tests at the end pin down the rules this file relies on.
"""

import shlex
import tomllib

import pytest
from docker.utils.build import exclude_paths

from tests.test_compose import REPO_ROOT, _dockerfile_instructions

DOCKERIGNORE = REPO_ROOT / ".dockerignore"
# Always sent by the builder, never copied into the image.
BUILD_FILES = {"Dockerfile", ".dockerignore"}
# What the image runs: the apps, templates, static files, manage.py and the package metadata.
IMAGE = (
    "pyproject.toml",
    "README.md",  # pyproject.toml's readme: `pip install .` reads it
    "disclosure",
    "projects",
    "mailer",
    "reports",
    "advisories",
    "inbox",
    "api",
    "webhooks",
    "manage.py",
    "templates",
    "static",
)

# What must never be in the image: development data, secrets, the toolchain, the tests.
PRIVATE = (
    "var/db.sqlite3",
    "var/attachments/2026/01/poc.py",
    "var/celerybeat-schedule",
    ".venv/bin/python",
    ".git/HEAD",
    ".git",  # a worktree's .git is a file
    ".env",
    ".env.production",
    "disclosure/.env",
    "reports/.env.local",
    "tests/conftest.py",
    "benchmarks/sweep_reminders.py",
    ".ci/run",
    "staticfiles/css/site.css",
    "disclosure.egg-info/PKG-INFO",
    "reports/__pycache__/views.cpython-311.pyc",
    "dump.sql",  # anything new at the top stays out until someone lets it in
    "notes/secret.txt",
)


def patterns():
    """The .dockerignore patterns, as the Docker CLI reads them (comments and blanks dropped)."""
    if not DOCKERIGNORE.exists():
        return []
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def context(root, rules=None):
    """Paths (files and directories, relative, "/"-separated) sent to `docker build` at `root`."""
    return exclude_paths(str(root), list(patterns() if rules is None else rules), "Dockerfile")


def copy_sources():
    """The context paths each COPY of the Dockerfile names, in order, with the instruction index."""
    sources = []
    for index, (instruction, arguments) in enumerate(_dockerfile_instructions()):
        if instruction != "COPY" or "--from" in arguments:
            continue
        words = [word for word in shlex.split(arguments) if not word.startswith("--")]
        sources += [(index, source.rstrip("/")) for source in words[:-1]]
    return sources


def files_under(path):
    if path.is_file():
        return [path]
    return [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def plant(root, relative, text="x"):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(text)


@pytest.fixture
def tree(tmp_path):
    """The files of IMAGE (empty), the build files, and every path of PRIVATE planted beside."""
    for relative in BUILD_FILES:
        if (REPO_ROOT / relative).exists():
            (tmp_path / relative).write_bytes((REPO_ROOT / relative).read_bytes())
    for needed in IMAGE:
        for file in files_under(REPO_ROOT / needed):
            plant(tmp_path, file.relative_to(REPO_ROOT))
    for relative in PRIVATE:
        if relative != ".git":
            plant(tmp_path, relative)
    return tmp_path


def test_the_context_is_an_allow_list():
    rules = patterns()
    assert rules[:1] == ["*"], "start from nothing, then let in what the image needs"


@pytest.mark.parametrize("private", PRIVATE)
def test_private_paths_stay_out_of_the_context(tree, private):
    sent = context(tree)
    assert private not in sent
    assert not [path for path in sent if path.startswith(private + "/")]


def test_the_dockerfile_copies_what_the_image_runs_by_name():
    assert sorted(source for _, source in copy_sources()) == sorted(IMAGE)


def test_the_real_checkout_sends_only_what_the_image_runs():
    top = {path.split("/")[0] for path in context(REPO_ROOT)}
    assert top - BUILD_FILES == set(IMAGE)


def test_everything_the_dockerfile_copies_is_in_the_context(tree):
    sent = context(tree)
    for _, source in copy_sources():
        assert source in sent, f"COPY {source}: not in the build context"
        for file in files_under(REPO_ROOT / source):  # the checkout's, not the planted ones
            assert str(file.relative_to(REPO_ROOT)) in sent, file


def test_the_context_holds_only_what_the_dockerfile_copies(tree):
    copied = {source for _, source in copy_sources()}
    sent = context(tree)
    stray = {
        p for p in sent - BUILD_FILES if not any(p == c or p.startswith(c + "/") for c in copied)
    }
    assert not stray, f"in the context but never copied: {sorted(stray)}"


def test_every_package_is_copied_before_pip_install():
    """`pip install .` builds the packages pyproject.toml lists: each must be there by then."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    instructions = _dockerfile_instructions()
    install = next(
        i for i, (instruction, arguments) in enumerate(instructions)
        if instruction == "RUN" and "pip install ." in arguments
    )  # fmt: skip
    before = {source for index, source in copy_sources() if index < install}
    assert packages | {"pyproject.toml", "README.md"} <= before


# --- Docker's rules, as docker-py applies them --------------------------------------------------


def test_rules_later_patterns_override_and_bang_lets_back_in(tmp_path):
    for relative in ("app/x.py", "app/secret.txt", "app/sub/y.pyc", "app/sub/z.py", "other.txt"):
        plant(tmp_path, relative)
    sent = context(tmp_path, ["*", "!app", "app/secret.txt", "**/*.pyc", "!app/sub/y.pyc"])
    assert {"app/x.py", "app/sub/z.py", "app/sub/y.pyc"} <= sent
    assert "app/secret.txt" not in sent
    assert "other.txt" not in sent


def test_rules_exclude_a_directory_with_everything_inside(tmp_path):
    for relative in ("var/db.sqlite3", "var/a/b/c.txt", "keep/var/ok.txt"):
        plant(tmp_path, relative)
    sent = context(tmp_path, ["var"])
    assert not [path for path in sent if path.startswith("var")]
    assert "keep/var/ok.txt" in sent  # a pattern without ** names a path from the root
