"""Process settings, read from ``NAVCYCLE_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def with_credentials(url: str, user: str, password: str) -> str:
    """``url`` with ``user:password@`` before its host, unless it names a user already."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.username:
        return url
    userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    return urlunsplit(parts._replace(netloc=userinfo + parts.netloc))


def split_nats_urls(value: str) -> list[str]:
    """The NATS servers a comma-separated setting lists (a cluster: ``nats://a:4222,nats://b:4222``),
    blanks around each stripped. An empty entry is a typo, refused rather than skipped. The
    message names the entry's position, never the URL (it may carry a password)."""
    urls = [part.strip() for part in value.split(",")]
    for n, url in enumerate(urls, 1):
        if not url:
            raise ValueError(
                f"nats_url_empty_entry: entry {n} of {len(urls)} in the NATS URL list is empty;"
                f" separate URLs with single commas / NATS 地址列表第 {n} 项（共 {len(urls)} 项）"
                "为空，请用单个逗号分隔各地址"
            )
    return urls


REPO_ROOT = Path(__file__).resolve().parent.parent
DEPLOY_DIR = REPO_ROOT / "deploy"


WORKER_CACHED_WORKFLOWS = 1000  # the Temporal SDK's default workflow cache, and navcycle's


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NAVCYCLE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # a refused value may carry a password (a NATS URL's)
    )

    state_dir: Path = Field(Path(".navcycle"), description="Where embedded servers keep data")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    task_queue: str = "navcycle"
    worker_cached_workflows: int = Field(
        WORKER_CACHED_WORKFLOWS,
        ge=0,
        description="Workflow runs a worker keeps in memory; a run beyond it is evicted while it"
        " waits and replayed from its history when woken (deploy/README.md: capacity)",
    )
    temporal_tls_ca: Path | None = Field(
        None, description="PEM of the CA that signed Temporal's server certificate; set: TLS"
    )
    temporal_tls_cert: Path | None = Field(
        None, description="PEM client certificate for mutual TLS (with temporal_tls_key)"
    )
    temporal_tls_key: Path | None = Field(None, description="PEM private key of the client cert")
    temporal_tls_server_name: str | None = Field(
        None, description="Name to expect on Temporal's certificate, if not the address's host"
    )

    nats_url: str = "nats://127.0.0.1:4222"
    nats_monitor_port: int = 8222
    nats_user: str | None = Field(
        None,
        description=(
            "This process's NATS user (one per service); unset: the operator user `navcycle up`"
            " generated under state_dir, if any, else none"
        ),
    )
    nats_password: SecretStr | None = None
    event_duplicate_window_s: float = Field(
        24 * 3600, description="JetStream de-duplication window; covers the retry horizon"
    )
    stream_replicas: int = Field(
        1, ge=1, le=5, description="JetStream replicas of the event streams; 3 on a 3-node cluster"
    )
    rpc_timeout_s: float = 10.0

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str | None = Field(
        None,
        description=(
            "The address people open the portal at (https://…, behind a TLS proxy): sign-in"
            " links are made with it; by default the gateway's own host and port"
        ),
    )

    database_url: str | None = Field(
        None, description="SQLAlchemy URL; unset means one SQLite file per service in state_dir"
    )

    s3_endpoint: str | None = Field(None, description="host:port of S3/MinIO; unset = local dir")
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "navcycle"
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    token_lifetime_days: int = Field(
        90,
        ge=1,
        le=3660,
        description="How long a new or rotated bearer token lives unless given --expires-in",
    )
    signin_link_minutes: int = Field(
        1440,
        ge=1,
        le=43200,
        description="How long a portal sign-in link (navcycle user add --link, user link) works",
    )
    portal_idle_minutes: int = Field(
        30,
        ge=1,
        le=1440,
        description="A portal session unused this long ends; the person signs in again",
    )

    programs_dir: Path = DEPLOY_DIR / "programs"
    bases_file: Path | None = DEPLOY_DIR / "bases.yaml"
    upload_max_bytes: int = 50 * 1024 * 1024
    max_bases_per_year: int = Field(
        5000,
        ge=1,
        description=(
            "The launch, through the API (409 program_too_large) or by the yearly Schedule,"
            " refuses a program with more active bases: a program year is kept to the size"
            " measured to complete (deploy/README.md, capacity)"
        ),
    )
    update_answer_wait_s: float = Field(
        12.0,
        ge=0,
        description=(
            "How long the gateway waits for a filing the cycle accepted to be recorded before it"
            " answers 202 Accepted instead of 201 with the receipt"
        ),
    )

    arrival_max_skew_s: float = Field(
        300.0,
        ge=0,
        description=(
            "A filing counts as filed when it reached the gateway if the cycle accepts it within"
            " this many seconds (it covers the upload and a rush's queue); an older arrival is"
            " judged when accepted, and a gateway clock this far ahead of the workflow's is"
            " refused (clock_skew); 0 judges every filing when accepted"
        ),
    )

    webhook_urls: str = Field("", description="Comma-separated URLs that receive every notice")
    webhook_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key for webhooks")
    smtp_host: str | None = Field(None, description="Unset: no e-mail")
    smtp_port: int = 25
    smtp_from: str = "navcycle@localhost"
    smtp_to: str = Field("", description="Comma-separated bureau mailboxes")
    notice_max_attempts: int = Field(
        8, ge=1, description="Tries of one notice's delivery (webhook, e-mail) before it is dead"
    )
    notice_backoff_s: float = Field(
        5.0, gt=0, description="Wait before a delivery's first retry; doubled after each try"
    )
    notice_backoff_max_s: float = Field(3600.0, gt=0, description="Longest wait between tries")
    notice_concurrency: int = Field(8, ge=1, description="Deliveries in flight at once")
    notice_timeout_s: float = Field(10.0, gt=0, description="Time limit of one delivery attempt")
    notice_poll_s: float = Field(2.0, gt=0, description="How often the sender looks for due ones")

    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: str = "INFO"

    @field_validator("nats_url")
    @classmethod
    def _nats_list(cls, value: str) -> str:
        split_nats_urls(value)
        return value

    @field_validator("s3_endpoint")
    @classmethod
    def _no_scheme(cls, value: str | None) -> str | None:
        if value and "://" in value:
            raise ValueError("give host:port without a scheme; set NAVCYCLE_S3_SECURE for TLS")
        return value or None

    @cached_property
    def objects_dir(self) -> Path:
        return self.state_dir / "objects"

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("set both temporal_tls_cert and temporal_tls_key, or neither")
        return self

    @property
    def nats_auth_dir(self) -> Path:
        """Where ``navcycle up`` keeps the NATS users it generated and the server's config."""
        return self.state_dir / "nats-auth"

    def nats_credentials(self) -> tuple[str, str] | None:
        if self.nats_user:
            secret = self.nats_password.get_secret_value() if self.nats_password else ""
            return self.nats_user, secret
        first = urlsplit(split_nats_urls(self.nats_url)[0])
        if first.username:  # credentials written into the URL itself
            return first.username, first.password or ""
        from shared.nats_auth import OPERATOR, read_embedded_passwords

        generated = read_embedded_passwords(self.nats_auth_dir)
        return (OPERATOR, generated[OPERATOR]) if OPERATOR in generated else None

    @property
    def nats_servers(self) -> list[str]:
        """The NATS URL setting may list a cluster, comma-separated. The process's credentials
        travel in each URL (nats-py and FastStream read them there), unless a URL has its own."""
        urls = split_nats_urls(self.nats_url)
        credentials = self.nats_credentials()
        if credentials is None:
            return urls
        return [with_credentials(url, *credentials) for url in urls]

    @property
    def webhook_url_list(self) -> list[str]:
        return [u.strip() for u in self.webhook_urls.split(",") if u.strip()]

    @property
    def smtp_to_list(self) -> list[str]:
        return [a.strip() for a in self.smtp_to.split(",") if a.strip()]

    @field_validator("webhook_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() in ("", "changeme", "secret"):
            raise ValueError("set a real webhook secret, not a placeholder")
        return value

    @property
    def gateway_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def portal_url(self) -> str:
        """Where people reach the gateway: ``public_url``, else the gateway's own address."""
        return (self.public_url or self.gateway_url).rstrip("/")

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / f'{service}.db').resolve()}"
