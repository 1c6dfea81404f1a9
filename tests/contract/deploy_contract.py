"""What the deployment contracts are checked against: the Procfile, the settings code and the service folders.

Everything here is read from the repository (no Docker, no cluster): the Procfile's processes, the environment
variables the settings code reads (found in the source with `ast`, so a new setting is picked up without editing
these tests), and a way to build a process's real-mode settings from a given environment.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renewals_shared import config as shared_config

REPO = Path(__file__).resolve().parents[2]

# settings service name (renewals_shared.config.SERVICE_PORTS) -> folder under services/ and Python package
SERVICE_DIRS = {
    "gateway": ("services/gateway", "gateway"),
    "order": ("services/order-service", "order_service"),
    "token": ("services/token-service", "token_service"),
    "reseller": ("services/reseller-service", "reseller_service"),
    "notifier": ("services/notifier", "notifier"),
}
LOOPBACK = re.compile(r"//(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|/|$)")
# Seen by a person's browser, not by a container: loopback is right for a laptop's `make up`.
BROWSER_FACING = {"PUBLIC_BASE_URL"}
ENV_READERS = {"env_str", "env_int", "_env"}


@dataclass(frozen=True)
class Process:
    name: str
    argv: tuple[str, ...]

    @property
    def service(self) -> str | None:
        """The settings service this process belongs to (None for the dev SMTP sink)."""
        prefix = self.name.split("-", 1)[0]
        return prefix if prefix in shared_config.SERVICE_PORTS else None

    @property
    def is_web(self) -> bool:
        return self.argv[0] == "gunicorn"

    def option(self, *names: str) -> str | None:
        for i, arg in enumerate(self.argv):
            if arg in names and i + 1 < len(self.argv):
                return self.argv[i + 1]
            for name in names:
                if name.startswith("--") and arg.startswith(name + "="):
                    return arg.split("=", 1)[1]
        return None

    @property
    def bind(self) -> tuple[str, int] | None:
        value = self.option("--bind", "-b")
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        return host, int(port)


def read_procfile() -> dict[str, Process]:
    processes = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        processes[name.strip()] = Process(name.strip(), tuple(shlex.split(command)))
    assert processes, "the Procfile lists no process"
    return processes


def normalized_argv(argv: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Spell gunicorn's short options long and bind every address to 0.0.0.0, the rest as is."""
    long_names = {"-w": "--workers", "-b": "--bind"}
    out: list[str] = []
    for arg in argv:
        arg = long_names.get(arg, arg)
        if out and out[-1] == "--bind":
            arg = "0.0.0.0:" + arg.rpartition(":")[2]
        out.append(arg)
    return tuple(out)


# ---- the settings code -----------------------------------------------------------------------------------------
def settings_sources() -> list[Path]:
    files = [REPO / "shared/renewals_shared/config.py"]
    for folder, package in SERVICE_DIRS.values():
        candidate = REPO / folder / package / "config.py"
        if candidate.exists():
            files.append(candidate)
    return files


def _literal_name(node: ast.AST) -> list[str]:
    """The variable name(s) a reader call's first argument spells: a literal, or the per-service f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):  # f"{service.upper()}_DATABASE_URL"
        tail = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [f"{service.upper()}{tail}" for service in shared_config.DATABASE_SERVICES]
    return []


def scan_env_names(path: Path) -> set[str]:
    """Every environment variable `path` reads: env_str/env_int/_env/os.environ.get/os.getenv/os.environ[...],
    with the name given literally, as an f-string per service, or through a variable bound to either (a loop over
    a tuple constant such as SECRET_NAMES, an assignment), or through a local helper passing its parameter on."""
    tree = ast.parse(path.read_text())
    bound: dict[str, list[str]] = {}  # variable -> the names it may hold
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Tuple | ast.List):
                values = [n for element in value.elts for n in _literal_name(element)]
            else:
                values = _literal_name(value)
            if values:
                bound.setdefault(node.targets[0].id, []).extend(values)
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Name):
            bound.setdefault(node.target.id, []).extend(bound.get(node.iter.id, []))

    def is_reader(call: ast.Call, readers: set[str]) -> bool:
        func = call.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        environ_get = (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "environ"
        )
        return called in readers or called == "getenv" or environ_get

    readers = set(ENV_READERS)
    for node in ast.walk(tree):  # def secret(name): ... _env(name) ...  -> secret("X") reads X
        if isinstance(node, ast.FunctionDef) and node.args.args:
            param = node.args.args[0].arg
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and inner.args
                    and isinstance(inner.args[0], ast.Name)
                    and inner.args[0].id == param
                    and is_reader(inner, ENV_READERS)
                ):
                    readers.add(node.name)

    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and is_reader(node, readers):
            first = node.args[0]
            names.update(bound.get(first.id, []) if isinstance(first, ast.Name) else _literal_name(first))
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
            names.update(_literal_name(node.slice))
    return {name for name in names if re.fullmatch(r"[A-Z][A-Z0-9_]*", name)}


def settings_field_vars() -> dict[str, str]:
    """Settings field -> the variable it is read from, from the keywords of `cls(...)` in Settings.from_env."""
    tree = ast.parse((REPO / "shared/renewals_shared/config.py").read_text())
    fields: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "cls":
            for keyword in node.keywords:
                for inner in ast.walk(keyword.value):
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and inner.value.isupper():
                        fields[keyword.arg or ""] = inner.value
                        break
    return fields


@dataclass(frozen=True)
class SettingsCode:
    names: frozenset[str]  # every variable the settings code reads
    required_in_real_mode: frozenset[str]  # per the code: missing -> SettingsError in real mode (all services)
    loopback_defaults: dict[str, frozenset[str]]  # service -> its variables whose default is this machine's loopback
    database_vars: dict[str, str]  # service -> <SERVICE>_DATABASE_URL

    def must_set(self, service: str) -> set[str]:
        """What a process of `service` must find in its environment in a container."""
        needed = set(self.required_in_real_mode) | (set(self.loopback_defaults[service]) - BROWSER_FACING)
        if service in self.database_vars:
            needed.add(self.database_vars[service])
        return needed


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_service_settings(service: str, env: dict[str, str]) -> dict[str, Any]:
    """Build the process's settings exactly as it would at start-up; returns every URL-ish field by variable name."""
    with environment(env):
        settings = shared_config.Settings.from_env(service)
        values: dict[str, Any] = {"__settings__": settings}
        for field, var in settings_field_vars().items():
            values[var] = getattr(settings, field)
        if settings.database_url is not None:
            values[f"{service.upper()}_DATABASE_URL"] = settings.database_url
        if service == "gateway":
            from gateway.config import GatewayConfig

            values["NOTIFIER_SERVICE_URL"] = GatewayConfig.from_env(settings).notifier_service_url
        elif service == "token":
            from token_service.config import TokenConfig

            TokenConfig.from_env(settings)
        elif service == "reseller":
            from reseller_service.config import ResellerConfig

            ResellerConfig.from_env()
        elif service == "notifier":
            from notifier.config import NotifierConfig

            NotifierConfig.from_env(settings)
    return values


def discover_settings_code(tmp_dir: Path) -> SettingsCode:
    names: set[str] = set()
    for source in settings_sources():
        names |= scan_env_names(source)
    database_vars = {s: f"{s.upper()}_DATABASE_URL" for s in shared_config.DATABASE_SERVICES}

    # Embedded mode with nothing set: which values fall back to this machine's loopback?
    loopback: dict[str, frozenset[str]] = {}
    for service in shared_config.SERVICE_PORTS:
        values = load_service_settings(service, {"RENEWALS_VAR_DIR": str(tmp_dir)})
        loopback[service] = frozenset(
            var for var, value in values.items() if isinstance(value, str) and LOOPBACK.search(value)
        )

    # The least a real-mode process needs: its secrets and database. If the code starts requiring anything else,
    # this raises SettingsError naming it, and the list below must learn it.
    minimal = {"RENEWALS_MODE": "real"} | {name: "s" * 32 for name in shared_config.SECRET_NAMES}
    minimal |= {var: f"postgresql+psycopg://u:p@db/{s}" for s, var in database_vars.items()}
    required: set[str] = set()
    for service in shared_config.SERVICE_PORTS:
        load_service_settings(service, minimal)
        for name in set(minimal) - {"RENEWALS_MODE"}:  # dropping which one makes the code refuse to start?
            try:
                load_service_settings(service, {k: v for k, v in minimal.items() if k != name})
            except shared_config.SettingsError:
                if name not in database_vars.values():
                    required.add(name)
    return SettingsCode(frozenset(names), frozenset(required), loopback, database_vars)


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out
