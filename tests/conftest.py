"""Fixtures shared by the whole suite.

The suite runs once per backend (`--backend sqlite|postgresql`, see the Makefile). Schema is
built by the real Alembic migrations once per worker; each test then runs inside one outer
transaction that is rolled back, so tests never see each other's rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from trustdesk.core import migrate
from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database, make_engine
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.models import StaffUser
from trustdesk.core.identity.permissions import Permission, Role, operator_principal
from trustdesk.core.settings import Settings, load_settings
from trustdesk.http.container import Container
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.web.app import create_app

# Rich tables wrap to the terminal; CLI tests read their output, so give them a wide one.
os.environ.setdefault("COLUMNS", "200")

PG_ADMIN_URL = os.environ.get("TRUSTDESK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery staple"
TEST_ACTOR = Actor("test", "pytest")
# Test set-up mints tokens as the operator at the server shell does: any scope may be granted.
TEST_GRANTOR = operator_principal("pytest")
# The emergency lane's background sweep stays off in tests, so that every app a test starts
# does only what the test asks; a test that wants it passes emergency_sweep_s itself.
os.environ.setdefault("TRUSTDESK_EMERGENCY_SWEEP_S", "0")
# Apps in tests hash in threads: a process pool spawns interpreters per app (seconds each);
# tests/core/test_cpu.py tests the process pool, the production default, on its own.
os.environ.setdefault("TRUSTDESK_CPU_POOL", "thread")
# Property tests check properties, not speed: Hypothesis's 200 ms per example and its "data
# generation is slow" check are timings, and fail on a loaded machine.
hypothesis.settings.register_profile("trustdesk", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("trustdesk")
# So do the audit chain's scheduled checkpoints; tests take theirs through `checkpoints.take`.
os.environ.setdefault("TRUSTDESK_AUDIT_CHECKPOINT_EVERY_S", "0")
# And the Matrix report import (platform = matrix); tests import through `reports.import_new`.
os.environ.setdefault("TRUSTDESK_MATRIX_REPORTS_EVERY_S", "0")
# And the scheduled jobs (core/jobs): tests drive a Scheduler themselves (tests/core/jobs).
os.environ.setdefault("TRUSTDESK_JOBS_IN_SERVER", "false")
# Live rules act at once in the suite (and in the workers and servers it starts); the promotion
# gate of new rule and model versions has its own tests (tests/safety/pipeline/test_promotion.py).
os.environ.setdefault("TRUSTDESK_AUTOMATION_REQUIRES_PROMOTION", "false")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=["sqlite", "postgresql"], default="sqlite", help="database the suite runs on")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--backend") == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs --backend postgresql")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--backend")


def _fresh_postgres_database(name: str) -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def fresh_database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[callable]:
    """A factory of empty databases on the chosen backend, dropped at the end of the run."""
    created: list[str] = []

    def make(label: str = "main") -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / f'{label}.db'}"
        name = f"trustdesk_test_{label}_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return _fresh_postgres_database(name)

    yield make
    for name in created:
        _drop_postgres_database(name)


@pytest.fixture(scope="session")
def database_url(fresh_database_url: callable) -> str:
    url = fresh_database_url("main")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    """A database whose every change is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    yield Database(engine, bind=connection)
    outer.rollback()
    connection.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 28, 23, 30, tzinfo=UTC))


@pytest.fixture
def platform() -> DemoPlatform:
    return DemoPlatform.from_url("sqlite://")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(data_dir=tmp_path, database_url=database_url, session_cookie_secure=False)


@pytest.fixture
def container(settings: Settings, db: Database, clock: FrozenClock, platform: DemoPlatform) -> Container:
    return Container(settings=settings, db=db, clock=clock, platform=platform)


@pytest.fixture
def client(settings: Settings, container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(settings, container=container)) as client:
        yield client


class StaffFactory:
    """Makes staff accounts and signs them in, over the real login form."""

    def __init__(self, db: Database, clock: FrozenClock) -> None:
        self.db, self.clock, self.count = db, clock, 0

    def create(self, *roles: Role, username: str | None = None) -> StaffUser:
        self.count += 1
        with self.db.transaction() as session:
            return identity.create_user(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                username=username or f"staff{self.count}",
                display_name=f"Staff {self.count}",
                email=f"staff{self.count}@example.org",
                password=PASSWORD,
                roles=list(roles),
            )

    def code(self, user: StaffUser, *, step_offset: int = 0) -> str:
        totp = pyotp.TOTP(user.totp_secret)
        return totp.generate_otp(totp.timecode(self.clock.now()) + step_offset)

    def sign_in(self, client: TestClient, user: StaffUser) -> str:
        """Signs in and returns the session's CSRF token."""
        response = client.post(
            "/login", data={"username": user.username, "password": PASSWORD, "totp": self.code(user)}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        self.clock.advance(seconds=30)  # the next sign-in of this user needs a fresh step
        page = client.get("/console")
        marker = '"X-CSRF-Token": "'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]

    def token(self, *scopes: Permission, days: int = 30) -> str:
        with self.db.transaction() as session:
            secret, _ = identity.create_token(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                grantor=TEST_GRANTOR,
                name=f"svc{self.count}",
                scopes=list(scopes),
                days=days,
            )
        self.count += 1
        return secret


@pytest.fixture
def staff(db: Database, clock: FrozenClock) -> StaffFactory:
    return StaffFactory(db, clock)
