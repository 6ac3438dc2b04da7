"""docker-compose.yml and the Dockerfile, checked without a container engine.

No docker (nor the compose plugin) runs here, so this module does what `docker compose config`
would: load the YAML (PyYAML's safe_load resolves the `<<:` merge keys of the `x-app` anchor),
interpolate `${VAR}`, `${VAR:-default}` and `${VAR:?message}` from a production-like environment,
then validate the result against the vendored Compose Specification schema
(tests/schemas/compose-spec.json, see tests/schemas/README.md). The remaining tests pin down the
deployment's shape: which services run, what they run, and how they reach each other.

The paths below are module constants so that a test can point them at a broken copy.
"""

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"

APP_SERVICES = ("web", "worker", "beat")
# Runs the image once (migrations, seed) and exits; the app services wait for its success.
ONE_SHOT_SERVICES = ("migrate",)
BACKING_SERVICES = ("postgres", "redis")
# Started only with `docker compose --profile dev`.
DEV_SERVICES = ("mailpit",)
ENV_EXAMPLE = REPO_ROOT / ".env.example"
SETTINGS_FILE = REPO_ROOT / "disclosure" / "settings.py"

# What an operator puts in .env. DJANGO_BEHIND_TLS_PROXY is left out on purpose: its compose
# default is part of what is checked.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "k3Jq9-vX2pLr7tYw0zNc4mBf8sHd6gAe1uQi5oRy",
    "DJANGO_ALLOWED_HOSTS": "disclosure.example.org",
    "SITE_URL": "https://disclosure.example.org",
    "POSTGRES_PASSWORD": "pg-8fT2kLq9xW4rZ7",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
    "DJANGO_DEFAULT_FROM_EMAIL": "Disclosure <noreply@disclosure.example.org>",
    "SECURITY_CONTACT_EMAIL": "security@disclosure.example.org",
}
# Every variable the compose file must refuse to run without (the `:?` form).
REQUIRED_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "SITE_URL",
    "POSTGRES_PASSWORD",
    "EMAIL_URL",
)


# --- Compose interpolation (the subset of the spec this project uses) ---------------------------


class InterpolationError(ValueError):
    """What `docker compose` reports before starting anything."""


_VARIABLE = re.compile(
    r"""\$(?:
        (?P<escaped>\$)
      | (?P<named>[_a-zA-Z][_a-zA-Z0-9]*)
      | \{(?P<braced>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}
      | (?P<invalid>)
    )""",
    re.VERBOSE,
)


def interpolate_string(value, env):
    """`$$`, `$VAR`, `${VAR}`, `${VAR[:]-default}` and `${VAR[:]?message}`, as Compose does."""

    def substitute(match):
        if match["escaped"]:
            return "$"
        if match["invalid"] is not None:
            raise InterpolationError(f"invalid interpolation format in {value!r}")
        name, op, arg = match["named"] or match["braced"], match["op"], match["arg"]
        if arg and "$" in arg:
            raise InterpolationError(f"nested interpolation is not supported here: {value!r}")
        current = env.get(name)
        # With a colon an empty value counts as unset, without one only an absent variable does.
        unset = current is None or (current == "" and bool(op) and op.startswith(":"))
        if op and op.endswith("?") and unset:
            raise InterpolationError(f"required variable {name} is missing a value: {arg}")
        if op and op.endswith("-") and unset:
            return arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def interpolate(node, env):
    """Interpolate every string value (never a key) of the loaded YAML document."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, str):
        return interpolate_string(node, env)
    return node


# --- Loading ---------------------------------------------------------------------------------


def _config(env=None):
    """docker-compose.yml as `docker compose config` sees it with `env` as the environment."""
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return interpolate(document, PRODUCTION_ENV if env is None else env)


def _services():
    return _config()["services"]


def _schema():
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _schema_errors(config):
    errors = sorted(Draft7Validator(_schema()).iter_errors(config), key=lambda e: e.json_path)
    lines = []
    for error in errors:
        lines.append(f"{error.json_path}: {error.message}")
        lines.extend(f"    {sub.json_path}: {sub.message}" for sub in error.context or ())
    return lines


def _environment(service):
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def _words(command):
    """A compose command as words, with the script of `sh -c "..."` split too."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if len(words) == 3 and words[0] in ("sh", "/bin/sh", "bash") and words[1] == "-c":
        words = words[:2] + shlex.split(words[2])
    return words


def _runs_celery(words, subcommand):
    if "celery" not in words:
        return False
    after = words[words.index("celery") + 1 :]
    # `celery worker -B` embeds a beat in the worker: it counts as a beat too.
    return subcommand in after or (subcommand == "beat" and ("-B" in after or "--beat" in after))


def _assert_wsgi_target_exists(target):
    module, _, attribute = target.partition(":")
    source = REPO_ROOT.joinpath(*module.split(".")).with_suffix(".py")
    assert source.is_file(), f"{target}: {source.relative_to(REPO_ROOT)} does not exist"
    assert re.search(rf"^{attribute}\s*=", source.read_text(encoding="utf-8"), re.MULTILINE), (
        f"{target}: {source.name} defines no {attribute}"
    )


def _dockerfile_instructions():
    """(INSTRUCTION, arguments) per logical line: comments dropped, continuations joined."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        instruction, _, arguments = (pending + stripped).partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
        pending = ""
    return instructions


# --- The interpolation helper itself ------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "env", "expected"),
    [
        ("${X}", {"X": "v"}, "v"),
        ("$X/y", {"X": "v"}, "v/y"),
        ("${X}", {}, ""),
        ("${X:-d}", {}, "d"),
        ("${X:-d}", {"X": ""}, "d"),
        ("${X-d}", {"X": ""}, ""),
        ("${X:-}", {}, ""),
        ("${X:?m}", {"X": "v"}, "v"),
        ("a,${X:?m},b", {"X": "v"}, "a,v,b"),
        ("$${X}", {"X": "v"}, "${X}"),
    ],
)
def test_interpolation_follows_compose_rules(template, env, expected):
    assert interpolate_string(template, env) == expected


@pytest.mark.parametrize(
    ("template", "env"),
    [("${X:?m}", {}), ("${X:?m}", {"X": ""}), ("${X?m}", {}), ("${X", {"X": "v"}), ("$-", {})],
)
def test_interpolation_refuses_what_compose_refuses(template, env):
    with pytest.raises(InterpolationError):
        interpolate_string(template, env)


# --- The compose file against the Compose Specification ----------------------------------------


def test_vendored_schema_is_the_full_compose_spec():
    schema = _schema()
    assert "draft-07" in schema["$schema"]
    assert "services" in schema["properties"]
    assert {"service", "healthcheck", "deployment", "command"} <= schema["definitions"].keys()
    Draft7Validator.check_schema(schema)


def test_compose_file_is_valid_against_compose_spec():
    errors = _schema_errors(_config())
    assert not errors, "docker-compose.yml violates the Compose Specification:\n" + "\n".join(
        errors
    )


def test_schema_validation_reports_a_broken_compose_file(tmp_path, monkeypatch):
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    broken.write_text(text.replace("condition: service_healthy", "condition: healthy"))
    monkeypatch.setattr(f"{__name__}.COMPOSE_FILE", broken)
    assert any("'healthy' is not one of" in line for line in _schema_errors(_config()))


# --- Services and what they run ------------------------------------------------------------


def test_services_are_exactly_the_production_set_and_the_dev_mail_catcher():
    services = _services()
    assert set(services) == {*APP_SERVICES, *ONE_SHOT_SERVICES, *BACKING_SERVICES, *DEV_SERVICES}
    profiles = {name: service.get("profiles") for name, service in services.items()}
    # Production (`docker compose up -d`, no profile) never starts the mail catcher.
    assert profiles == {name: ["dev"] if name in DEV_SERVICES else None for name in services}


def test_app_services_build_this_dockerfile():
    for name in (*APP_SERVICES, *ONE_SHOT_SERVICES):
        build = _services()[name].get("build")
        context = build if isinstance(build, str) else (build or {}).get("context", ".")
        assert (COMPOSE_FILE.parent / context / "Dockerfile").is_file(), name


def test_exactly_one_beat_and_it_is_not_scaled():
    services = _services()
    beats = [
        name
        for name, service in services.items()
        if _runs_celery(_words(service.get("command") or []), "beat")
    ]
    assert beats == ["beat"], f"services running celery beat: {beats}"
    beat = services["beat"]
    deploy = beat.get("deploy") or {}
    assert deploy.get("mode", "replicated") == "replicated"
    assert int(deploy.get("replicas", 1)) == 1
    assert int(beat.get("scale", 1)) == 1


def test_worker_runs_the_celery_worker():
    words = _words(_services()["worker"]["command"])
    assert words[:4] == ["celery", "-A", "disclosure", "worker"], words
    assert (REPO_ROOT / "disclosure" / "celery.py").is_file()


def test_web_serves_the_wsgi_application_with_gunicorn():
    web = _services()["web"]
    words = _words(web["command"])
    assert "gunicorn" in words, words
    gunicorn = words[words.index("gunicorn") :]
    assert "disclosure.wsgi:application" in gunicorn
    _assert_wsgi_target_exists("disclosure.wsgi:application")
    bind = gunicorn[gunicorn.index("--bind") + 1]
    assert bind == "0.0.0.0:8000"
    assert any(str(port).endswith(":8000") for port in web.get("ports", [])), web.get("ports")


def test_manage_py_commands_in_compose_and_dockerfile_exist():
    commands = [_words(s["command"]) for s in _services().values() if s.get("command")]
    commands += [
        _words(s["healthcheck"]["test"][1:])
        for s in _services().values()
        if (s.get("healthcheck") or {}).get("test")
    ]
    commands += [shlex.split(args) for instr, args in _dockerfile_instructions() if instr == "RUN"]
    names = [
        words[index + 1]
        for words in commands
        for index, word in enumerate(words[:-1])
        if word == "manage.py"
    ]
    assert names, "expected manage.py commands (migrate, seed_projects, collectstatic)"
    assert (REPO_ROOT / "manage.py").is_file()
    missing = sorted(set(names) - set(get_commands()))
    assert not missing, f"unknown management commands: {missing}"


# --- Environment and dependencies -----------------------------------------------------------


@pytest.mark.parametrize("name", [*APP_SERVICES, *ONE_SHOT_SERVICES])
def test_app_service_environment_is_production_and_points_at_backing_services(name):
    services = _services()
    env = _environment(services[name])
    postgres = _environment(services["postgres"])

    assert env["DJANGO_DEBUG"] == "0"
    assert env["DJANGO_SECRET_KEY"] == PRODUCTION_ENV["DJANGO_SECRET_KEY"]
    assert env["SITE_URL"] == PRODUCTION_ENV["SITE_URL"]

    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in ("postgres", "postgresql")
    assert database.hostname == "postgres"
    assert (database.port or 5432) == 5432
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"] == PRODUCTION_ENV["POSTGRES_PASSWORD"]
    assert database.path == "/" + postgres["POSTGRES_DB"]

    for key in ("CELERY_BROKER_URL", "REDIS_URL"):
        url = urlsplit(env[key])
        assert (url.scheme, url.hostname, url.port or 6379) == ("redis", "redis", 6379), key


def test_app_environment_names_are_read_by_settings():
    settings_source = (REPO_ROOT / "disclosure" / "settings.py").read_text(encoding="utf-8")
    unread = {
        key
        for name in APP_SERVICES
        for key in _environment(_services()[name])
        if f'"{key}"' not in settings_source
    }
    assert not unread, f"set in docker-compose.yml but never read by settings: {sorted(unread)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_backing_services_and_the_migrations(name):
    depends_on = _services()[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions, got {depends_on!r}"
    for backing in BACKING_SERVICES:
        assert (depends_on.get(backing) or {}).get("condition") == "service_healthy", backing
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_migrations_and_seed_run_once_in_the_one_shot_service():
    services = _services()
    migrate = services["migrate"]
    words = _words(migrate["command"])
    assert words[:2] == ["sh", "-c"], words
    script = " ".join(words[2:])
    assert script == "python manage.py migrate --noinput && python manage.py seed_projects"
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # Nothing else migrates: two services migrating at once would race.
    for name, service in services.items():
        if name != "migrate" and service.get("command"):
            assert "migrate" not in _words(service["command"]), name


@pytest.mark.parametrize("name", [*APP_SERVICES, *BACKING_SERVICES, *DEV_SERVICES])
def test_service_has_an_enabled_healthcheck(name):
    healthcheck = _services()[name].get("healthcheck") or {}
    test = healthcheck.get("test")
    assert test, f"{name} has no healthcheck test"
    assert not healthcheck.get("disable")
    if isinstance(test, list):
        assert test[0] in ("CMD", "CMD-SHELL"), test
        assert len(test) > 1, test


def test_web_healthcheck_probes_health_endpoint_on_an_allowed_host():
    web = _services()["web"]
    test = web["healthcheck"]["test"]
    probe = " ".join(test) if isinstance(test, list) else test
    urls = re.findall(r"https?://[^\s'\"]+", probe)
    assert len(urls) == 1, probe
    url = urlsplit(urls[0])
    assert url.path == "/health/"
    assert url.port == 8000
    allowed_hosts = _environment(web)["DJANGO_ALLOWED_HOSTS"].split(",")
    assert url.hostname in allowed_hosts, "Django would answer the probe with 400"


def test_the_one_shot_service_is_waited_for_by_its_exit_code_not_a_probe():
    assert _services()["migrate"]["healthcheck"] == {"disable": True}


def test_worker_healthcheck_pings_its_own_worker_through_the_broker():
    test = _services()["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    words = shlex.split(test[1])
    assert words[:5] == ["celery", "-A", "disclosure", "inspect", "ping"], words
    # Compose turned $$HOSTNAME into $HOSTNAME, which the container's shell expands: the
    # default node name of the worker (celery@<hostname>).
    assert words[words.index("--destination") + 1] == "celery@$HOSTNAME"


def test_beat_healthcheck_reads_the_heartbeat():
    assert _services()["beat"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "manage.py",
        "check_heartbeat",
    ]


def test_database_and_attachments_live_in_volumes():
    config = _config()
    services = config["services"]
    assert "/var/lib/postgresql/data" in [
        volume.split(":")[1] for volume in services["postgres"]["volumes"]
    ]
    for name in (*APP_SERVICES, *ONE_SHOT_SERVICES):
        assert "data:/app/var" in services[name]["volumes"], name
        assert "DJANGO_ATTACHMENT_ROOT" not in _environment(services[name])
    assert {"postgres", "data"} <= set(config["volumes"])
    # The image's attachment store is the default one, inside /app/var (the data volume).
    default = re.search(
        r'ATTACHMENT_ROOT = Path\(env_str\("DJANGO_ATTACHMENT_ROOT", (.+)\)\)\n',
        (SETTINGS_FILE.read_text(encoding="utf-8")),
    )
    assert default, "ATTACHMENT_ROOT's default moved: check the data volume still holds it"
    assert default[1] == 'str(BASE_DIR / "var" / "attachments")'


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_compose_refuses_to_start_without_required_variable(variable, value):
    env = {key: val for key, val in PRODUCTION_ENV.items() if key != variable}
    if value is not None:
        env[variable] = value
    with pytest.raises(InterpolationError, match=rf"{variable} .*set {variable} in \.env"):
        _config(env)


# --- .env.example ---------------------------------------------------------------------------

# Read outside the settings module: compose (the database password), ensure_admin.
NOT_IN_SETTINGS = {"POSTGRES_PASSWORD", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD"}


def _env_example():
    """{name: value} of the set lines and the set of names of the commented ones."""
    set_lines, commented = {}, set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            set_lines[match[1]] = match[2]
        elif match := re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=.*", line):
            commented.add(match[1])
    return set_lines, commented


def _read_by_settings():
    source = SETTINGS_FILE.read_text(encoding="utf-8")
    return set(re.findall(r'\benv_[a-z]+\(\s*"([A-Z][A-Z0-9_]*)"', source))


def test_settings_reader_finds_every_env_read():
    names = _read_by_settings()
    # Spot checks, one- and multi-line calls of each helper kind.
    assert {"DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "SITE_URL", "INBOX_TRUSTED_NETWORKS"} <= names
    assert {"RATE_LIMIT_REPORTS", "REMINDER_LEAD_FRACTION", "HEALTH_BEAT_MAX_AGE"} <= names
    assert len(names) > 60


def test_env_example_lists_every_setting_and_nothing_else():
    set_lines, commented = _env_example()
    listed = set(set_lines) | commented
    assert not set(set_lines) & commented, "listed twice"
    expected = _read_by_settings() | NOT_IN_SETTINGS
    assert sorted(expected - listed) == [], "read by the settings, missing from .env.example"
    assert sorted(listed - expected) == [], "in .env.example, read by nothing"


def test_env_example_sets_exactly_the_required_variables_and_compose_reads_only_listed_ones():
    set_lines, commented = _env_example()
    assert set_lines == dict.fromkeys(REQUIRED_VARIABLES, "")
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    assert interpolated <= set(set_lines) | commented


def test_a_copy_of_env_example_is_refused_until_filled_in_then_valid():
    set_lines, _ = _env_example()
    with pytest.raises(InterpolationError, match=r"set DJANGO_SECRET_KEY in \.env"):
        _config(set_lines)
    filled = {**set_lines, **{name: PRODUCTION_ENV[name] for name in REQUIRED_VARIABLES}}
    assert _schema_errors(_config(filled)) == []


def test_app_services_read_the_env_file_when_there_is_one():
    for name in (*APP_SERVICES, *ONE_SHOT_SERVICES):
        assert _services()[name]["env_file"] == [{"path": ".env", "required": False}], name


# --- Dockerfile ---------------------------------------------------------------------------


def test_the_image_has_pg_dump_of_the_database_servers_major_version():
    """`manage.py backup` runs pg_dump in the app container; pg_dump refuses a newer server."""
    image = _services()["postgres"]["image"]
    server_major = re.fullmatch(r"postgres:(\d+)(\.\d+)?", image)
    assert server_major, image
    runs = " ".join(args for instr, args in _dockerfile_instructions() if instr == "RUN")
    assert re.findall(r"postgresql-client-(\d+)", runs) == [server_major[1]]


def test_static_files_are_collected_at_build_after_they_are_copied():
    instructions = _dockerfile_instructions()
    copy_static = instructions.index(("COPY", "static ./static"))
    collect = [
        index
        for index, (instruction, arguments) in enumerate(instructions)
        if instruction == "RUN" and "manage.py collectstatic --noinput" in arguments
    ]
    assert len(collect) == 1
    assert collect[0] > copy_static


def test_dockerfile_copies_files_that_exist():
    for instruction, arguments in _dockerfile_instructions():
        if instruction != "COPY" or "--from" in arguments:
            continue
        sources = [word for word in shlex.split(arguments) if not word.startswith("--")][:-1]
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY {arguments}: {source} is missing"


def test_dockerfile_cmd_serves_the_wsgi_application():
    cmds = [args for instruction, args in _dockerfile_instructions() if instruction == "CMD"]
    assert len(cmds) == 1, cmds
    argv = json.loads(cmds[0])  # exec form, so gunicorn is PID 1 and gets the signals
    assert argv[0] == "gunicorn"
    assert "disclosure.wsgi:application" in argv
    _assert_wsgi_target_exists("disclosure.wsgi:application")


def test_dockerfile_bakes_in_no_deployment_secret():
    mentions = [
        (instruction, arguments)
        for instruction, arguments in _dockerfile_instructions()
        if "SECRET_KEY" in arguments
    ]
    assert mentions, "expected the collectstatic-only build key"
    for instruction, arguments in mentions:
        # ENV or ARG would persist in the image (or its history); one RUN's environment does not.
        assert instruction == "RUN", f"{instruction} {arguments}"
        assert re.findall(r"SECRET_KEY=(\S+)", arguments) == ["collectstatic-only"], arguments
        assert "manage.py collectstatic" in arguments
