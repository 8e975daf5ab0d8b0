"""Configuration from the environment (prefix ``VIDEOMERGE_API_``); api/README.md documents each field."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from videomerge_contract import Limits

_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _own_namespace() -> str | None:
    try:
        return _SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
    except OSError:
        return None


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDEOMERGE_API_", extra="ignore")

    namespace: str = Field(
        default_factory=lambda: _own_namespace() or "default",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length=63,
        description="Namespace whose VideoMerges this API creates and reads; unset → the pod's own.",
    )
    max_clips: int = Field(
        default=Limits.DEFAULT_MAX_CLIPS,
        ge=Limits.MIN_CLIPS,
        le=Limits.MAX_CLIPS,
        description="Most clips one request may merge.",
    )
    max_body_bytes: int = Field(default=512 * 1024, ge=1024, description="Largest request body; more → 413.")
    sync_timeout_seconds: float = Field(
        default=120.0, gt=0, le=3600, description="How long `/process` with `background: false` waits."
    )
    auth_enabled: bool = Field(
        default=True,
        description="Require a client's bearer token on every route but the probes; false → anyone is admin.",
    )
    auth_clients_dir: Path | None = Field(
        default=None,
        description="Directory of API clients (a mounted Secret: file `<client>[.<id>]` → role and token "
        "SHA-256); re-read on change. Unset with auth on → no token is accepted.",
    )
    rate_limit_per_second: float = Field(
        default=10.0, ge=0, le=100_000, description="Requests per second per client (token bucket); 0 → off."
    )
    rate_limit_burst: int = Field(
        default=40, ge=1, le=1_000_000, description="Bucket size: the burst allowed."
    )
    quota_max_active_merges: int = Field(
        default=20, ge=0, le=100_000, description="Unfinished merges one client may have; 0 → no cap."
    )
    quota_retry_after_seconds: int = Field(
        default=30, ge=1, le=3600, description="Retry-After sent when a client is at its merge cap."
    )
    metrics_port: int = Field(
        default=9090, ge=0, le=65535, description="Port of the unauthenticated /metrics server; 0 → none."
    )
    host: str = Field(default="0.0.0.0", description="Listen address.")
    port: int = Field(default=8080, ge=1, le=65535, description="Listen port.")
    kubeconfig: Path | None = Field(
        default=None, description="Kubeconfig file; unset → in-cluster config, else ~/.kube/config."
    )
    kube_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Timeout of one call to the Kubernetes API server."
    )
    kube_pool_size: int = Field(
        default=32, ge=1, le=512, description="HTTP connections kept open to the API server."
    )
    cache_enabled: bool = Field(
        default=True, description="Serve reads from a watch-based cache; false → every read is a GET."
    )
    watch_timeout_seconds: int = Field(
        default=300, ge=1, le=3600, description="Server-side length of one watch before it is renewed."
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, le=300, description="Retry-After sent with 503 when the API server is unreachable."
    )
    list_max_limit: int = Field(default=500, ge=1, le=5000, description="Largest `limit` of the list route.")
    log_level: str = Field(default="INFO", description="Python log level.")

    @field_validator("auth_clients_dir", "kubeconfig", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value
