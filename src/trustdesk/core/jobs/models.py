"""One row per job: its lease (who runs it now, until when) and its record (last run, next
run, duration, failures). The row is the election: a process runs a job's tick only after a
conditional UPDATE of this row, which one process alone can win."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class JobState(Base):
    __tablename__ = "core_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    tick: Mapped[int] = mapped_column(Integer, default=0)  # claims so far: the compare-and-set of the election
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    holder: Mapped[str | None] = mapped_column(String(200))  # host:pid:nonce of the process running it now
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a holder that died lets go here
    every_s: Mapped[float] = mapped_column(Float, default=0.0)  # the interval it last ran under, for the page
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    last_outcome: Mapped[str | None] = mapped_column(String(16))  # ok | failed
    last_summary: Mapped[str | None] = mapped_column(String(300))  # counts, never data
    last_error: Mapped[str | None] = mapped_column(String(300))  # the error's kind and Trustdesk's own detail
    last_holder: Mapped[str | None] = mapped_column(String(200))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
