"""Published transparency reports. A draft is a snapshot of the files as generated; publishing
gives it the next version number of its report and period and freezes it. Nothing here is
updated after publication or ever deleted: a correction is a new version that names the one
it corrects, and each file keeps the SHA-256 that the public page shows beside it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trustdesk.core.database import Base, UTCDateTime


class ReportState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DISCARDED = "discarded"


class TransparencyReport(Base):
    __tablename__ = "transparency_reports"
    __table_args__ = (UniqueConstraint("kind", "period", "version", name="uq_transparency_reports_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(String(8), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(200))
    correction_note: Mapped[str | None] = mapped_column(Text)
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discarded_by: Mapped[str | None] = mapped_column(String(200))

    files: Mapped[list[ReportFile]] = relationship(order_by="ReportFile.id", back_populates="report")

    @property
    def slug(self) -> str:
        """`dsa-2026` or `government-2026-H1`: the report's name in public addresses."""
        return f"{self.kind}-{self.period}"


class ReportFile(Base):
    __tablename__ = "transparency_report_files"
    __table_args__ = (UniqueConstraint("report_id", "name", name="uq_transparency_report_files_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("transparency_reports.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    media_type: Mapped[str] = mapped_column(String(128))  # an XLSX's type is 65 characters
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[TransparencyReport] = relationship(back_populates="files")


@event.listens_for(ReportFile, "before_update")
@event.listens_for(ReportFile, "before_delete")
def _files_are_frozen(_mapper: object, _connection: object, target: ReportFile) -> None:
    """A report's files are written once, with their hash, and never touched again."""
    raise PublishedReportChanged(f"file {target.name} of a transparency report cannot be changed or deleted")


@event.listens_for(TransparencyReport, "before_update")
def _published_is_frozen(_mapper: object, _connection: object, target: TransparencyReport) -> None:
    history = inspect(target).attrs.state.history
    before = history.deleted[0] if history.deleted else target.state
    if before == "published":
        raise PublishedReportChanged(f"published report {target.slug} v{target.version} cannot be changed; publish a correction")


@event.listens_for(TransparencyReport, "before_delete")
def _reports_stay(_mapper: object, _connection: object, target: TransparencyReport) -> None:
    raise PublishedReportChanged("transparency reports are never deleted; discard a draft instead")


class PublishedReportChanged(RuntimeError):
    """A bug, not a user error: code tried to rewrite what was published."""
