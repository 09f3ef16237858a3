"""CPU per statement of the statement path's product stages, in one process, without HTTP or a
second process (issue #22): the build of `statements.py` (builder, `validate_statement`,
bulk insert), `validate_statement` alone over the stored payloads, and the outbox
(`dsa_submission.drain`: claim, Trustdesk's checks, record) against a database port that
accepts every batch. For comparing two trees on a shared machine: CPU time, not wall time.

    .venv/bin/python benchmarks/statements_stages.py ROOT N        # ROOT: the checkout to measure
    PROF=1 .venv/bin/python benchmarks/statements_stages.py . 10000  # with cProfile of the drain
"""

import cProfile
import os
import pstats
import resource
import sys
import tempfile

root = sys.argv[1]
n = int(sys.argv[2])
sys.path[:0] = [root, root + "/src", root + "/benchmarks"]
sys.argv = [sys.argv[0]]
import statements as B  # noqa: E402
from sqlalchemy import select  # noqa: E402

from trustdesk.core.dsa_database.port import BatchOutcome, DsaDatabase  # noqa: E402
from trustdesk.safety.enforcement import dsa_submission  # noqa: E402
from trustdesk.safety.enforcement.dsa import validate_statement  # noqa: E402
from trustdesk.safety.enforcement.models import StatementOfReasons  # noqa: E402


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


class Accept(DsaDatabase):
    """Takes every batch: the outbox's own cost, without the HTTP round trip."""

    def submit(self, statements):  # type: ignore[no-untyped-def]
        outcome = BatchOutcome()
        outcome.accepted.update({s["puid"]: "" for s in statements})
        return outcome

    def exists(self, puid: str) -> bool:
        return False

    def held(self, puid: str) -> str | None:
        return None


with tempfile.TemporaryDirectory() as tmp:
    url = f"sqlite:///{tmp}/b.db"
    B.migrate.upgrade(url)
    db = B.Database.from_url(url)
    _, build_cpu, _ = B.build(db, n)
    with db.transaction() as s:
        payloads = [p for (p,) in s.execute(select(StatementOfReasons.payload))]
    c = cpu()
    for p in payloads:
        validate_statement(p)
    v = cpu() - c
    profile = cProfile.Profile() if os.environ.get("PROF") else None
    c = cpu()
    if profile is not None:
        profile.enable()
    dsa_submission.drain(db, actor=B.ACTOR, clock=B.SystemClock(), dsa_database=Accept())
    if profile is not None:
        profile.disable()
    d = cpu() - c
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    print(
        f"{root}: build {1e6 * build_cpu / n:.1f} us, validate {1e6 * v / n:.1f} us, drain(no HTTP) {1e6 * d / n:.1f} us per statement"
    )
