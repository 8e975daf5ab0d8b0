"""Notifier configuration, read from ``VIDEOMERGE_NOTIFIER_*`` environment variables (see the README)."""

import os
import socket
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from videomerge_operator.settings import _split_list


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDEOMERGE_NOTIFIER_", extra="ignore")

    namespaces: Annotated[list[str], NoDecode] = Field(default_factory=list)
    secret_file: str = "/etc/videomerge/webhook/secret"

    # Retries: exponential backoff with jitter, for retry_for_seconds after the merge finished.
    retry_for_seconds: float = Field(default=24 * 3600, gt=0)
    backoff_initial_seconds: float = Field(default=5, gt=0)
    backoff_max_seconds: float = Field(default=3600, gt=0)

    # One attempt: connect, each read/write, and the whole attempt.
    connect_timeout_seconds: float = Field(default=5, gt=0)
    read_timeout_seconds: float = Field(default=10, gt=0)
    attempt_timeout_seconds: float = Field(default=15, gt=0)
    concurrency: int = Field(default=32, ge=1)
    allow_private_urls: bool = False

    resync_seconds: float = Field(default=300, gt=0)
    http_host: str = "0.0.0.0"  # the probes and Prometheus reach the pod from outside
    http_port: int = Field(default=8082, ge=0, le=65535)
    identity: str = Field(default_factory=lambda: os.environ.get("POD_NAME") or socket.gethostname())
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    kubeconfig: str | None = None

    @field_validator("namespaces", mode="before")
    @classmethod
    def _list_from_env(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _attempt_fits_its_timeouts(self) -> "NotifierSettings":
        if self.attempt_timeout_seconds < self.connect_timeout_seconds:
            raise ValueError("attempt_timeout_seconds must be at least connect_timeout_seconds")
        return self
