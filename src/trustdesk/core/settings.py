"""The one settings object. Built once by `load_settings()` and passed down; nothing reads the
environment at import time."""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_SECRET = "dev-only-change-me-0123456789abcdef"
# Where links point when no base URL is set and no request tells its host (development only).
DEV_BASE_URL = "http://127.0.0.1:8000"
# Every signal type Trustdesk ships (safety/signals/types/registry.py's CATALOGUE; a test checks).
DEFAULT_SIGNAL_TYPES: tuple[str, ...] = ("pdq", "md5", "sha256", "video_md5", "vpdq")


class BusKind(StrEnum):
    IN_PROCESS = "in-process"
    NATS = "nats"


class PagerKind(StrEnum):
    LOG = "log"
    WEBHOOK = "webhook"
    SMTP = "smtp"


class CpuPoolKind(StrEnum):
    THREAD = "thread"
    PROCESS = "process"


class PlatformKind(StrEnum):
    DEMO = "demo"
    MATRIX = "matrix"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Every knob of Trustdesk. Environment variables are prefixed `TRUSTDESK_`; a TOML file
    named by `TRUSTDESK_CONFIG` (or passed to `load_settings`) supplies defaults under them."""

    model_config = SettingsConfigDict(env_prefix="TRUSTDESK_", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("var"), description="Where the embedded database and files live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; unset means SQLite at data_dir/trustdesk.db.")
    blob_dir: Path | None = Field(
        None,
        description="Where disclosure packages and request attachments are stored, by SHA-256 (owner-only files); unset means data_dir/blobs. Every host that serves the same database must see the same directory (a shared volume).",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET),
        description="Signs session cookies and links. Must be set in production.",
    )
    environment: str = Field("development", description="development | production")
    public_base_url: str | None = Field(
        None,
        description="Where the public pages are, e.g. https://trust.example.org: the base of every absolute link (discovery document, statements of reasons, appeal links). Required in production; unset in development, links follow the host a request was served on.",
    )
    portal_base_url: str | None = Field(
        None,
        description="Where the authorities' portal is (package links, the discovery document's portal); unset: public_base_url.",
    )
    console_base_url: str | None = Field(
        None, description="Where the staff console is (page acknowledge links, alerts); unset: public_base_url."
    )
    base_url: str | None = Field(None, description="Former name of public_base_url, used where that is unset.")
    session_cookie_secure: bool = Field(True, description="Send the console cookie only over HTTPS (browsers allow localhost).")
    session_hours: float = Field(12.0, gt=0, description="How long a console sign-in lasts.")
    login_max_failures: int = Field(5, ge=1, description="Failed sign-ins in a row before the account is locked.")
    login_lockout_minutes: int = Field(15, ge=1, description="How long a locked account stays locked.")
    token_default_days: int = Field(90, ge=1, le=366, description="Lifetime of a new API token when none is given.")
    dsa_database_url: str | None = Field(
        None,
        description="The EU DSA Transparency Database API (its base URL) that `trustdesk transparency submit-sor` sends statements of reasons to; `--endpoint` overrides it.",
    )
    dsa_database_token: SecretStr | None = Field(
        None, description="The platform's API token for the DSA Transparency Database; submission is refused while it is unset."
    )
    bus: BusKind = Field(BusKind.IN_PROCESS, description="Event bus: in-process (embedded) or nats (JetStream, many workers).")
    nats_url: str = Field("nats://127.0.0.1:4222", description="bus = nats: the NATS server.")
    pipeline_prefix: str = Field(
        "trustdesk",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The bus subject prefix, one per deployment: the API, `trustdesk serve` and every `trustdesk pipeline worker` must agree on it.",
    )
    platform: PlatformKind = Field(
        PlatformKind.DEMO, description="The moderated platform: demo (built in), matrix (Synapse) or webhook."
    )
    webhook_base_url: str | None = Field(
        None, description="platform = webhook: where the platform's endpoints are (docs/webhook.md)."
    )
    webhook_secret: SecretStr | None = Field(None, description="platform = webhook: the shared secret that signs requests.")
    webhook_timeout_s: float = Field(5.0, gt=0, description="platform = webhook: seconds one attempt may take.")
    webhook_attempts: int = Field(4, ge=1, le=10, description="platform = webhook: attempts per call on network errors and 5xx.")
    webhook_backoff_s: float = Field(
        0.25, ge=0, description="platform = webhook: first retry delay, doubled each time, with jitter."
    )
    organisation_name: str = Field("Demo Messenger Ltd", description="The provider's legal name, shown to authorities and users.")
    dsa_provider_kind: str = Field(
        "online_platform",
        pattern="^(hosting|online_platform|vlop)$",
        description="DSA transparency report: hosting | online_platform | vlop; which rows of the Annex I templates apply.",
    )
    matrix_homeserver_url: str | None = Field(None, description="platform = matrix: Synapse's client/admin API base URL.")
    matrix_server_name: str | None = Field(None, description="platform = matrix: the homeserver's server_name.")
    matrix_bot_user_id: str | None = Field(None, description="platform = matrix: the Synapse admin account Trustdesk acts as.")
    matrix_bot_token: SecretStr | None = Field(None, description="platform = matrix: that account's access token.")
    matrix_reports_every_s: float = Field(
        60.0,
        ge=0,
        description="platform = matrix: seconds between the server's imports of Synapse's user reports into review; 0 turns them off (then run `trustdesk matrix import-reports --every 60`).",
    )
    # Paging (core/paging, docs/paging.md): `pager` picks the adapter; each adapter's settings follow it.
    pager: PagerKind = Field(PagerKind.LOG, description="How on-call is paged: log (embedded default), webhook or smtp.")
    pager_webhook_url: str | None = Field(None, description="pager = webhook: the incident tool's URL.")
    pager_webhook_secret: SecretStr | None = Field(None, description="pager = webhook: HMAC secret that signs pages.")
    smtp_host: str | None = Field(None, description="pager = smtp: relay host.")
    smtp_port: int = Field(25, ge=1, le=65535, description="pager = smtp: relay port.")
    smtp_sender: str = Field("trustdesk@localhost", description="pager = smtp: From address.")
    smtp_username: str | None = Field(None, description="pager = smtp: login, if the relay needs one.")
    smtp_password: SecretStr | None = Field(None, description="pager = smtp: password, if the relay needs one.")
    smtp_starttls: bool = Field(False, description="pager = smtp: upgrade the connection with STARTTLS.")
    emergency_sweep_s: float = Field(
        10.0,
        ge=0,
        description="Seconds between the emergency lane's sweeps (missed TCO orders, deadline pages, page escalation): the `emergency.sweep` scheduled job, one process per sweep (docs/jobs.md); 0 turns the sweep off.",
    )
    exchange_credentials: dict[str, dict[str, SecretStr]] = Field(
        default_factory=dict,
        description="Hash-list exchange credentials by API name (ncmec, stop_ncii, tat, fb_threatexchange): "
        'the fields of python-threatexchange\'s credential class, e.g. {"ncmec": {"user": ..., "password": ...}}.',
    )
    automation_requires_promotion: bool = Field(
        True,
        description="A rule or model version the pipeline has not seen runs in shadow (verdicts recorded, no effects) "
        "until it is promoted on its measured precision (docs/classifiers.md); false lets every live rule act at once.",
    )
    model_servers: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Classifiers on self-hosted model servers (POST /v1/classify, docs/classifiers.md), each "
        '{"name": ..., "base_url": ..., "model": ..., "version": ..., "positive_label": ..., "modalities": ["text", "image"], '
        '"token": ..., "timeout_s": ..., "contract": "pigeon" (ROOST Pigeon, the default) or "trustdesk", '
        '"pin_version": false, "policy": ...}; rules call them by name.',
    )
    match_max_entries: int = Field(10_000_000, description="Most bank entries one process's matcher holds in memory.")
    match_refresh_seconds: float = Field(2.0, description="How stale a matcher may be before it reads new bank changes.")
    signal_types: list[str] = Field(
        list(DEFAULT_SIGNAL_TYPES),
        description="The signal types banks hold and the matcher matches, by name (safety/signals/types/); "
        "an unknown name is refused at start.",
    )
    request_max_json_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Largest request body of a JSON route, in bytes; refused with 413 while it is read (a declared Content-Length over it before a byte is read).",
    )
    request_max_form_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest body of a console or portal form without files, in bytes."
    )
    request_max_upload_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest body of a route that takes a file or a bulk load (hash and lookup uploads, bank imports and entries, Matrix media checks), in bytes.",
    )
    request_max_attachment_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest body of a lawful request with its attachments (API, portal, console), in bytes; each attachment is also held to 10 MiB, and a request to 10 of them.",
    )
    request_max_form_parts: int = Field(
        200, ge=1, description="Most parts of a multipart form, or fields of a URL-encoded one, counted as the body arrives."
    )
    json_max_depth: int = Field(
        64, ge=2, description="Deepest nesting of arrays and objects in a JSON body, checked before it is parsed (422)."
    )
    json_max_string_bytes: int = Field(
        256 * 1024,
        ge=256,
        description="Longest string in a JSON body, in bytes as sent, checked before it is parsed (422); attachment and upload routes, whose files travel as base64 strings, are held to their body limit instead.",
    )
    image_max_pixels: int = Field(
        50_000_000,
        ge=1,
        description="Most pixels (width x height) of an image that is decoded for hashing, read from its header before decoding; a larger one is refused with 413.",
    )
    archive_max_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=1024,
        description="Most bytes an archive (a disclosure package being verified) may expand to; reading stops there.",
    )
    pipeline_max_batch: int = Field(
        5000,
        ge=1,
        le=100_000,
        description="Most events one POST /api/v1/pipeline/events may carry; a larger batch is refused whole (413) before any event is validated.",
    )
    pipeline_max_backlog: int = Field(
        200_000,
        ge=0,
        description="Events waiting on the bus (not yet handled, or handed to a worker and not yet acknowledged) above which POST /api/v1/pipeline/events answers 429 with Retry-After instead of taking more on; 0: no limit. Read from the bus at most every half second.",
    )
    pipeline_stall_after_s: int = Field(
        300,
        ge=30,
        description="Seconds that accepted events may wait on the bus with no event handled before the safety.pipeline_watch job pages on-call (the API and the workers disagree on the bus, or no worker runs).",
    )
    pipeline_retry_after_s: int = Field(
        2,
        ge=1,
        le=3600,
        description="The Retry-After (seconds) that ingest sends with its 429 while the backlog is over pipeline_max_backlog.",
    )
    lawful_request_max_targets: int = Field(
        50,
        ge=1,
        le=10_000,
        description="Most targets (accounts, messages, links) one lawful request may name, by API, portal or console; more is a 422 asking to split the request.",
    )
    eevidence_pades_cert_file: Path | None = Field(
        None,
        description="e-Evidence: the PEM certificate Form 3 (Annex III) is signed with, as a PAdES advanced electronic signature (docs/e-evidence.md); unset with eevidence_pades_key_file unset means a self-signed development certificate under data_dir/keys (refused in production).",
    )
    eevidence_pades_key_file: Path | None = Field(
        None, description="e-Evidence: the PEM private key of eevidence_pades_cert_file (owner-only; never logged)."
    )
    review_bulk_max_cases: int = Field(
        200,
        ge=1,
        le=10_000,
        description="Most cases one bulk review decision (API or console) may take; more is a 422 before any case is read.",
    )
    cpu_workers: int | None = Field(
        None,
        ge=1,
        description="Workers that run CPU-bound work (media hashing, upload parsing) off the event loop, and so the most such jobs at once; unset: one fewer than the CPUs this process may use (at least 1), leaving one to serve requests.",
    )
    hash_workers: int | None = Field(
        None,
        ge=1,
        description="Processes that hash uploaded media (decode, PDQ, MD5 and SHA-256), a pool of their own at the CPU pool's lower OS priority, so that a burst of uploads queues there and not in front of other CPU work; unset: media is hashed in the CPU pool (cpu_workers, cpu_pool). benchmarks/hash.py gives the rate of one.",
    )
    cpu_pool: CpuPoolKind = Field(
        CpuPoolKind.PROCESS,
        description="What the CPU workers are: process (the default: at a lower OS priority than the server, so a busy machine serves requests first) or thread (shares memory, starts at once; what is costly releases the GIL). benchmarks/concurrency.py compares them.",
    )
    cpu_job_timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest a request waits for one CPU job (a media hash, in the queue and running) before it is answered 503 (`retry_after` in the problem): a file that stalls its decoder then costs one worker, never the requests behind it. The job itself runs on (a thread or process cannot be stopped safely); the pixel, size and JPEG scan limits keep real files far inside this.",
    )
    pipeline_payload_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Days a handled event's content (message text, media ids) is kept for backtests and replays; the daily `safety.pipeline_purge` job (or `trustdesk pipeline purge`) blanks it after that, keeping the record that the event was handled and its verdicts.",
    )
    audit_key_file: Path | None = Field(
        None,
        description="The Ed25519 key that signs audit checkpoints; unset means data_dir/keys/audit-ed25519.key. Created owner-only on first use; keep it off the database host and out of its backups, and change it with `trustdesk audit rotate-key`.",
    )
    audit_checkpoint_dir: Path | None = Field(
        None,
        description="Where the signed checkpoints of the audit chain are appended (audit-checkpoints.jsonl), outside the database; unset means data_dir/checkpoints. Published at /transparency/audit-checkpoints.json.",
    )
    audit_checkpoint_every_s: float = Field(
        3600.0,
        ge=0,
        description="Seconds between checkpoints of the audit chain: the `audit.checkpoint` scheduled job (docs/jobs.md); 0 turns them off (then run `trustdesk audit checkpoint --every 3600`).",
    )

    wisp_identities: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The provider's e-Evidence identities (docs/e-evidence.md), one per designated establishment or legal "
        'representative: each {"id": ..., "member_state": "IE", "receiver_id": ..., "wisp_base_url": "https://...", '
        '"wisp_client_cert_sha256": ["<hex>"], "client_cert_file": ..., "client_key_file": ..., "wisp_ca_file": ..., '
        '"languages": ["en"]}; the WISP listener accepts a client certificate only when its SHA-256 is listed.',
    )
    wisp_listen_host: str = Field(
        "0.0.0.0", description="Where the WISP listener (its own TLS server, docs/e-evidence.md) listens."
    )
    wisp_listen_port: int = Field(8443, ge=1, le=65535, description="The WISP listener's port.")
    wisp_server_cert_file: Path | None = Field(
        None, description="The WISP listener's TLS certificate (PEM); the listener does not start without it."
    )
    wisp_server_key_file: Path | None = Field(None, description="The WISP listener's TLS key (PEM).")
    wisp_client_ca_file: Path | None = Field(
        None,
        description="The CA certificates (PEM) whose client certificates the WISP listener's handshake accepts; each identity is then told apart by its certificate's SHA-256.",
    )
    wisp_max_body_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024,
        description="Largest HI-1 message the WISP listener reads, in bytes; a declared Content-Length over it is refused before a byte is read.",
    )
    wisp_outbox_max_attempts: int = Field(
        12, ge=1, description="Tries of one outbound WISP call before it is marked dead and on-call is told."
    )
    wisp_outbox_backoff_s: float = Field(
        30.0, gt=0, description="Seconds before the first retry of a failed outbound WISP call; doubled each try, at most a day."
    )

    jobs_in_server: bool = Field(
        True,
        description="Whether `trustdesk serve` runs the scheduled jobs itself (docs/jobs.md); any number of servers and `trustdesk jobs run` workers may: one of them runs each job's tick, elected through the database. false: only the workers run them.",
    )
    jobs_poll_s: float = Field(
        5.0, gt=0, description="Seconds between a process's looks at which jobs are due (the finest interval a job can have)."
    )
    jobs_every_s: dict[str, float] = Field(
        default_factory=dict,
        description='Seconds between runs of a scheduled job, by name, over its default (`trustdesk jobs status` lists them); 0 turns the job off, e.g. {"safety.exchange_fetch": 0, "legal.deadline_alerts": 30}. The emergency sweep and the audit checkpoints keep their own settings (emergency_sweep_s, audit_checkpoint_every_s) as defaults.',
    )

    def check_production(self) -> None:
        """A production instance must not run on the development secret or plain cookies."""
        if self.environment != "production":
            return
        if self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("TRUSTDESK_SECRET_KEY must be set in production (the development key is public).")
        if not self.session_cookie_secure:
            raise ValueError("TRUSTDESK_SESSION_COOKIE_SECURE must stay true in production.")
        if not self.public_url:
            raise ValueError("TRUSTDESK_PUBLIC_BASE_URL must be set in production (the public URL that links point to).")

    @property
    def public_url(self) -> str | None:
        """public_base_url, or its former name base_url."""
        return self.public_base_url or self.base_url

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'trustdesk.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def load_settings(config_file: Path | None = None, /, **overrides: Any) -> Settings:
    """Build the settings: explicit overrides, then environment, then the TOML config file."""
    path = config_file or (Path(os.environ["TRUSTDESK_CONFIG"]) if "TRUSTDESK_CONFIG" in os.environ else None)
    file_values: dict[str, Any] = {}
    if path is not None:
        with path.open("rb") as fh:
            file_values = tomllib.load(fh).get("trustdesk", {})
    # The environment wins over the file; init values would otherwise win over both.
    from_file = {k: v for k, v in file_values.items() if f"TRUSTDESK_{k.upper()}" not in os.environ}
    return Settings(**{**from_file, **overrides})
