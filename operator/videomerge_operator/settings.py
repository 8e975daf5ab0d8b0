"""Operator configuration, read from ``VIDEOMERGE_OPERATOR_*`` environment variables (see README table)."""

import json
import os
import socket
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from videomerge_contract.resource import WORKER_IMAGE

PullPolicy = Literal["Always", "IfNotPresent", "Never"]


def _default_identity() -> str:
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDEOMERGE_OPERATOR_", extra="ignore")

    # Where to act.
    namespaces: Annotated[list[str], NoDecode] = Field(default_factory=list)
    own_namespace: str | None = Field(default_factory=lambda: os.environ.get("POD_NAMESPACE"))
    # Before its first Job in a namespace (other than its own), apply the worker's ServiceAccount, Role,
    # RoleBinding and S3 credentials Secret there (worker_access.py).
    prepare_namespaces: bool = False

    # The worker Job.
    worker_image: str = f"{WORKER_IMAGE}:dev"
    worker_image_pull_policy: PullPolicy = "IfNotPresent"
    worker_command: Annotated[list[str] | None, NoDecode] = None
    worker_args: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["run"])
    worker_service_account: str = "videomerge-worker"
    worker_cpu_request: str = "500m"
    worker_cpu_limit: str | None = "2"
    worker_memory_request: str = "512Mi"
    worker_memory_limit: str = "2Gi"
    scratch_size_limit: str = "10Gi"
    backoff_limit: int = Field(default=2, ge=0)
    active_deadline_seconds: int = Field(default=3600, ge=1)
    ttl_seconds_after_finished: int | None = Field(default=3600, ge=0)
    host_network: bool = False
    # A value, or an EnvVar source such as {"valueFrom": {"secretKeyRef": {...}}}.
    extra_env: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    worker_image_pull_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    worker_node_selector: dict[str, str] = Field(default_factory=dict)
    worker_tolerations: list[dict[str, Any]] = Field(default_factory=list)
    worker_affinity: dict[str, Any] = Field(default_factory=dict)
    worker_priority_class_name: str | None = None
    worker_pod_labels: dict[str, str] = Field(default_factory=dict)
    worker_pod_annotations: dict[str, str] = Field(default_factory=dict)
    instance: str = "videomerge"

    # What the worker is told (videomerge_contract.worker_env).
    s3_endpoint_url: str | None = None
    s3_presign_endpoint_url: str | None = None
    s3_bucket: str = "videomerge"
    s3_prefix: str = "merges"
    s3_region: str = "us-east-1"
    s3_secret_name: str | None = "videomerge-s3"
    s3_access_key_key: str = "accessKey"
    s3_secret_key_key: str = "secretKey"
    # The credentials themselves (the chart fills them from the Secret by secretKeyRef, so the operator never
    # reads a Secret): copied into prepared namespaces, and used by the delete_s3_objects finalizer.
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    presign_expiry_seconds: int | None = Field(default=None, ge=1)
    public_base_url: str | None = None
    allow_private_urls: bool = False
    max_clip_bytes: int | None = Field(default=None, ge=1)
    max_total_duration_seconds: int | None = Field(default=None, ge=1)
    download_concurrency: int | None = Field(default=None, ge=1)

    # Scheduling and lifecycle.
    max_concurrent: int = Field(default=4, ge=0)
    concurrency_scope: Literal["cluster", "namespace"] = "cluster"
    image_pull_grace_seconds: float = Field(default=60, ge=0)
    container_config_grace_seconds: float = Field(default=60, ge=0)
    retention_seconds: float = Field(default=7 * 24 * 3600, ge=0)
    retention_interval_seconds: float = Field(default=60, gt=0)
    resync_seconds: float = Field(default=30, gt=0)
    api_concurrency: int = Field(default=16, ge=1)
    delete_s3_objects: bool = False

    # High availability.
    leader_election: bool = True
    lease_name: str = "videomerge-operator"
    lease_namespace: str = Field(default_factory=lambda: os.environ.get("POD_NAMESPACE", "default"))
    lease_duration_seconds: float = Field(default=15, gt=0)
    renew_deadline_seconds: float = Field(default=10, gt=0)
    retry_period_seconds: float = Field(default=2, gt=0)
    identity: str = Field(default_factory=_default_identity)

    # Operability.
    http_host: str = "0.0.0.0"  # the probes and Prometheus reach the pod from outside
    http_port: int = Field(default=8081, ge=0, le=65535)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    kubeconfig: str | None = None

    @field_validator("namespaces", "worker_args", "worker_image_pull_secrets", mode="before")
    @classmethod
    def _list_from_env(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("worker_command", mode="before")
    @classmethod
    def _command_from_env(cls, value: Any) -> Any:
        return None if value in (None, "") else _split_list(value)

    @field_validator(
        "worker_cpu_limit",
        "ttl_seconds_after_finished",
        "s3_endpoint_url",
        "s3_presign_endpoint_url",
        "s3_secret_name",
        "presign_expiry_seconds",
        "public_base_url",
        "max_clip_bytes",
        "max_total_duration_seconds",
        "download_concurrency",
        "kubeconfig",
        "own_namespace",
        "worker_priority_class_name",
        "s3_access_key_id",
        "s3_secret_access_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("extra_env", mode="before")
    @classmethod
    def _env_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @model_validator(mode="after")
    def _lease_timings_are_safe(self) -> "OperatorSettings":
        # The leader must give up before anyone else may take over, or two replicas could act at once.
        if not self.retry_period_seconds < self.renew_deadline_seconds < self.lease_duration_seconds:
            raise ValueError("need retry_period_seconds < renew_deadline_seconds < lease_duration_seconds")
        return self


def _split_list(value: Any) -> Any:
    """A list from JSON (``["a", "b"]``) or from a comma-separated string (``a,b``)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]
