"""A real, throwaway PostgreSQL server for the tests that need one.

`pg_server` (one per test session) uses the server named by `RUNNER_BOT_TEST_PG` (a
postgresql:// URL to a maintenance database; .ci/run exports it after starting one), or else
starts its own: `initdb` into a temporary folder and `pg_ctl` on a free port, as the `postgres`
user (PostgreSQL refuses to run as root). `pg_url` gives each test a fresh, empty database.

When no server can be had the tests skip with the reason — except in CI (CI=true), where
they fail: CI installs PostgreSQL, so a skip there would hide a broken set-up.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV = "RUNNER_BOT_TEST_PG"
_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: from PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name)


class LocalServer:
    """initdb + pg_ctl in a temporary folder, run as a user that is not root."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        self.folder = Path(tempfile.mkdtemp(prefix="runner-bot-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = self._user()
        if os.geteuid() == 0:
            uid = pwd.getpwnam(self.user).pw_uid
            os.chown(self.folder, uid, -1)
        self._run([self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -F -c max_connections=200"
        self._run([self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def _user() -> str:
        if os.geteuid() != 0:
            return pwd.getpwuid(os.geteuid()).pw_name
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no 'postgres' user to run the server as") from None
        return "postgres"

    def _run(self, command: list[str]) -> None:
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(command[-1]).name if command else ''} failed: {done.stderr.strip()[-300:]}")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([str(self.pg_ctl), "-D", str(self.data), "-m", "immediate", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the PostgreSQL tests, but no server could be had: {reason}")
    pytest.skip(f"no PostgreSQL server could be started ({reason}); apt-get install postgresql to run these")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A maintenance URL (database `postgres`) of a running server."""
    if os.environ.get(ENV):
        yield os.environ[ENV]
        return
    try:
        server = LocalServer()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        unavailable(str(error))
        return
    try:
        yield server.url
    finally:
        server.stop()


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import psycopg

    name = f"runner_test_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")  # type: ignore[arg-type]  # our own name
        conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")  # type: ignore[arg-type]
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh database for one test."""
    return fresh_database(pg_server)
