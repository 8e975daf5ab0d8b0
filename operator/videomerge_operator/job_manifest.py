"""The worker Job of a VideoMerge: a pure function of the merge's identity and the operator settings."""

from typing import Any, Final

from videomerge_contract import worker_env
from videomerge_contract.resource import API_VERSION, EXIT_PERMANENT_FAILURE, KIND
from videomerge_operator.naming import CONTAINER_NAME, job_name_for, worker_labels
from videomerge_operator.settings import OperatorSettings

SCRATCH_DIR: Final = "/scratch"
WORKER_UID: Final = 10001


def build_job(name: str, namespace: str, uid: str, settings: OperatorSettings) -> dict[str, Any]:
    """The Job manifest for the VideoMerge ``namespace/name`` (uid ``uid``): same inputs, same manifest."""
    labels = worker_labels(name, settings.instance)
    pod_labels = {**settings.worker_pod_labels, **labels}  # ours win: the operator selects by them
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": settings.worker_service_account,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": WORKER_UID,
            "runAsGroup": WORKER_UID,
            "fsGroup": WORKER_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(name, namespace, settings)],
        "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": settings.scratch_size_limit}}],
    }
    if settings.host_network:
        pod_spec["hostNetwork"] = True
        pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet"
    pod_spec |= _scheduling(settings)
    pod_meta: dict[str, Any] = {"labels": pod_labels}
    if settings.worker_pod_annotations:
        pod_meta["annotations"] = dict(settings.worker_pod_annotations)
    job_spec: dict[str, Any] = {
        "backoffLimit": settings.backoff_limit,
        "activeDeadlineSeconds": settings.active_deadline_seconds,
        "podFailurePolicy": {
            "rules": [
                # The worker already wrote Failed: the input is bad, another attempt cannot help.
                {
                    "action": "FailJob",
                    "onExitCodes": {
                        "containerName": CONTAINER_NAME,
                        "operator": "In",
                        "values": [EXIT_PERMANENT_FAILURE],
                    },
                },
                # Evictions, preemption, node drains: not the merge's fault, so not counted as a failure.
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            ]
        },
        "template": {"metadata": pod_meta, "spec": pod_spec},
    }
    if settings.ttl_seconds_after_finished is not None:
        job_spec["ttlSecondsAfterFinished"] = settings.ttl_seconds_after_finished
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name_for(name),
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": KIND,
                    "name": name,
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": job_spec,
    }


def _scheduling(settings: OperatorSettings) -> dict[str, Any]:
    """Where worker pods may run and how they pull, each field only when set (the chart's worker.*)."""
    fields: dict[str, Any] = {}
    if settings.worker_image_pull_secrets:
        fields["imagePullSecrets"] = [{"name": n} for n in settings.worker_image_pull_secrets]
    if settings.worker_node_selector:
        fields["nodeSelector"] = dict(settings.worker_node_selector)
    if settings.worker_tolerations:
        fields["tolerations"] = [dict(t) for t in settings.worker_tolerations]
    if settings.worker_affinity:
        fields["affinity"] = dict(settings.worker_affinity)
    if settings.worker_priority_class_name:
        fields["priorityClassName"] = settings.worker_priority_class_name
    return fields


def _container(name: str, namespace: str, settings: OperatorSettings) -> dict[str, Any]:
    requests = {"cpu": settings.worker_cpu_request, "memory": settings.worker_memory_request}
    limits = {"memory": settings.worker_memory_limit}
    if settings.worker_cpu_limit:
        limits["cpu"] = settings.worker_cpu_limit
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": settings.worker_image,
        "imagePullPolicy": settings.worker_image_pull_policy,
        "args": list(settings.worker_args),
        "env": worker_environment(name, namespace, settings),
        "resources": {"requests": requests, "limits": limits},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "scratch", "mountPath": SCRATCH_DIR}],
    }
    if settings.worker_command:
        container["command"] = list(settings.worker_command)
    return container


def worker_environment(name: str, namespace: str, settings: OperatorSettings) -> list[dict[str, Any]]:
    """The worker's env: identity, S3 target, limits, credentials by Secret reference, then extra_env."""
    plain: dict[str, str | None] = {
        worker_env.MERGE_NAME: name,
        worker_env.MERGE_NAMESPACE: namespace,
        worker_env.WORK_DIR: SCRATCH_DIR,
        "TMPDIR": SCRATCH_DIR,
        "HOME": SCRATCH_DIR,
        worker_env.S3_ENDPOINT_URL: settings.s3_endpoint_url,
        worker_env.S3_PRESIGN_ENDPOINT_URL: settings.s3_presign_endpoint_url,
        worker_env.S3_BUCKET: settings.s3_bucket,
        worker_env.S3_PREFIX: settings.s3_prefix,
        worker_env.S3_REGION: settings.s3_region,
        worker_env.PRESIGN_EXPIRY_SECONDS: _optional(settings.presign_expiry_seconds),
        worker_env.PUBLIC_BASE_URL: settings.public_base_url,
        worker_env.ALLOW_PRIVATE_URLS: "true" if settings.allow_private_urls else "false",
        worker_env.MAX_CLIP_BYTES: _optional(settings.max_clip_bytes),
        worker_env.MAX_TOTAL_DURATION_SECONDS: _optional(settings.max_total_duration_seconds),
        worker_env.DOWNLOAD_CONCURRENCY: _optional(settings.download_concurrency),
    }
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in plain.items() if v is not None]
    if settings.s3_secret_name:
        for var, key in (
            (worker_env.AWS_ACCESS_KEY_ID, settings.s3_access_key_key),
            (worker_env.AWS_SECRET_ACCESS_KEY, settings.s3_secret_key_key),
        ):
            env.append(
                {"name": var, "valueFrom": {"secretKeyRef": {"name": settings.s3_secret_name, "key": key}}}
            )
    # extra_env comes last and wins: the local cluster points in-cluster clients at 127.0.0.1:6443 with it.
    overridden = set(settings.extra_env)
    env = [e for e in env if e["name"] not in overridden]
    env.extend(_env_var(k, v) for k, v in settings.extra_env.items())
    return env


def _env_var(name: str, value: str | dict[str, Any]) -> dict[str, Any]:
    """``{"valueFrom": {...}}`` is an EnvVar source (a Secret or field reference); anything else a value."""
    if isinstance(value, dict):
        return {"name": name, **value}
    return {"name": name, "value": str(value)}


def _optional(value: int | None) -> str | None:
    return None if value is None else str(value)
