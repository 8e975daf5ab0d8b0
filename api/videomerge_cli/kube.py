"""The cluster way in (``--kube``): the VideoMerge resource itself, with the current kubeconfig.

What the API does for a POST is done here with the contract's models: the spec is validated by
``VideoMergeSpec`` and the status is read through ``VideoMergeStatus`` and the phase → REST word mapping,
so both ways in print the same words."""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from pydantic import ValidationError

from videomerge_cli.backend import MergeOptions
from videomerge_cli.model import CliError, ExitCode, MergeOutcome, MergeState, unreachable, usage_error
from videomerge_contract import (
    API_VERSION,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    Phase,
    RestStatus,
    VideoMergeSpec,
    VideoMergeStatus,
    rest_status,
)
from videomerge_contract.resource import APP_NAME, LABEL_NAME, LABEL_PART_OF

NAME_PREFIX = "vm-"
REQUEST_TIMEOUT = 10
WATCH_SECONDS = 60
T = TypeVar("T")


def utc_text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def state_from_object(obj: dict[str, Any]) -> MergeState:
    meta = obj.get("metadata", {})
    name = str(meta.get("name", ""))
    try:
        status = VideoMergeStatus.from_crd(obj.get("status"))
    except ValidationError:
        phase = (obj.get("status") or {}).get("phase")
        word = rest_status(phase if phase in set(Phase) else None)
        return MergeState(
            name, word.value, "status details unavailable", created_at=meta.get("creationTimestamp")
        )
    word = rest_status(status.phase)
    message = status.message or (status.error.message if status.error else "") or _DEFAULT_MESSAGE[word]
    return MergeState(
        task_id=name,
        status=word.value,
        message=message,
        progress=100 if word is RestStatus.COMPLETED else (status.progress or 0),
        stage=status.stage.value if status.stage else None,
        created_at=meta.get("creationTimestamp"),
        completed_at=utc_text(status.completion_time),
        clips=status.clips or len((obj.get("spec") or {}).get("videoUrls", [])) or None,
        raw={"task_id": name, "status": word.value, "phase": status.phase, "message": message},
    )


_DEFAULT_MESSAGE = {
    RestStatus.PENDING: "Merge is waiting to start",
    RestStatus.PROCESSING: "Merge in progress",
    RestStatus.COMPLETED: "Merge completed",
    RestStatus.FAILED: "Merge failed",
}


def outcome_from_object(obj: dict[str, Any]) -> MergeOutcome | None:
    name = str(obj.get("metadata", {}).get("name", ""))
    status = VideoMergeStatus.from_crd(obj.get("status"))
    if status.phase == Phase.COMPLETED and status.result is not None:
        r = status.result
        body = r.model_dump(mode="json", exclude_none=True, exclude={"bucket", "object_key"})
        return MergeOutcome(
            task_id=name,
            success=True,
            merged_url=r.merged_url,
            duration_seconds=r.duration_seconds,
            processing_time=r.processing_time,
            clips_merged=r.clips_merged,
            size_bytes=r.size_bytes,
            poster_url=r.poster_url,
            storyboard_url=r.storyboard_url,
            raw={"task_id": name, "success": True, **body},
        )
    if status.phase == Phase.FAILED:
        reason = status.error.reason.value if status.error else "Unknown"
        error = status.error.message if status.error else (status.message or "Merge failed")
        raw = {"task_id": name, "success": False, "status": "failed", "reason": reason, "error": error}
        return MergeOutcome(task_id=name, success=False, reason=reason, error=error, raw=raw)
    return None


class KubeBackend:
    def __init__(self, namespace: str | None, context: str | None, kubeconfig: str | None) -> None:
        try:
            config.load_kube_config(config_file=kubeconfig, context=context)
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
        except (ConfigException, OSError, TypeError, ValueError) as error:
            raise usage_error(f"no usable kubeconfig: {error}") from None
        chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
        self.namespace = namespace or (chosen.get("context") or {}).get("namespace") or "default"
        api_client = client.ApiClient()
        api_client.configuration.retries = 1
        self._api = client.CustomObjectsApi(api_client)
        self.where = f"namespace {self.namespace} of {api_client.configuration.host}"

    def create(self, options: MergeOptions) -> MergeState:
        fields: dict[str, Any] = {"video_urls": options.video_urls}
        for key, value in (
            ("quality", options.quality),
            ("aspect_ratio", options.aspect_ratio),
            ("fit", options.fit),
        ):
            if value is not None:
                fields[key] = value
        try:
            spec = VideoMergeSpec.model_validate(fields)
        except ValidationError as error:
            raise usage_error(_first_problem(error)) from None
        body = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {
                "name": NAME_PREFIX + uuid.uuid4().hex[:20],
                "labels": {LABEL_NAME: APP_NAME, LABEL_PART_OF: APP_NAME},
            },
            "spec": spec.to_crd(),
        }
        created = self._call(
            lambda: self._api.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, body, _request_timeout=REQUEST_TIMEOUT
            )
        )
        return state_from_object(created)

    def _get(self, task_id: str) -> dict[str, Any]:
        return self._call(
            lambda: self._api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, task_id, _request_timeout=REQUEST_TIMEOUT
            ),
            task_id,
        )

    def status(self, task_id: str) -> MergeState:
        return state_from_object(self._get(task_id))

    def result(self, task_id: str) -> MergeOutcome | None:
        return outcome_from_object(self._get(task_id))

    def list(self, status: str | None, limit: int) -> list[MergeState]:
        answer = self._call(
            lambda: self._api.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, _request_timeout=REQUEST_TIMEOUT
            )
        )
        items = sorted(
            answer.get("items", []),
            key=lambda o: (o["metadata"].get("creationTimestamp", ""), o["metadata"]["name"]),
            reverse=True,
        )
        states = [state_from_object(o) for o in items if not o["metadata"].get("deletionTimestamp")]
        return [s for s in states if status is None or s.status == status][:limit]

    def cancel(self, task_id: str) -> str:
        self._call(
            lambda: self._api.delete_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                PLURAL,
                task_id,
                propagation_policy="Background",
                _request_timeout=REQUEST_TIMEOUT,
            ),
            task_id,
        )
        return "Merge cancelled"

    def follow(self, task_id: str) -> Iterator[MergeState]:
        """A watch on the one resource, renewed when the server ends it."""
        obj = self._get(task_id)
        last = state_from_object(obj)
        yield last
        version = obj["metadata"].get("resourceVersion")
        while not last.finished:
            stream = watch.Watch()
            try:
                for event in stream.stream(
                    self._api.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    self.namespace,
                    PLURAL,
                    field_selector=f"metadata.name={task_id}",
                    resource_version=version,
                    timeout_seconds=WATCH_SECONDS,
                    _request_timeout=WATCH_SECONDS + REQUEST_TIMEOUT,
                ):
                    kind, changed = event["type"], event["object"]
                    if kind == "DELETED":
                        raise CliError(f"merge {task_id} was deleted (cancelled)", ExitCode.FAILED)
                    if kind not in ("ADDED", "MODIFIED"):
                        continue
                    version = changed["metadata"].get("resourceVersion", version)
                    state = state_from_object(changed)
                    if state != last:
                        yield state
                        last = state
                    if last.finished:
                        return
            except ApiException as error:
                if error.status != 410:
                    raise _api_error(error, task_id) from None
                version = self._get(task_id)["metadata"].get("resourceVersion")
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise unreachable(f"lost the cluster's API server: {error}") from None
            finally:
                stream.stop()

    def close(self) -> None:
        self._api.api_client.close()

    def _call(self, call: Callable[[], T], task_id: str | None = None) -> T:
        try:
            return call()
        except ApiException as error:
            raise _api_error(error, task_id) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise unreachable(f"cannot reach the cluster's API server: {_short(error)}") from None


def _short(error: Exception) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error).splitlines()[0][:200]


def _api_error(error: ApiException, task_id: str | None) -> CliError:
    code = error.status or 0
    if code == 404:
        what = f"no merge named {task_id}" if task_id else "no VideoMerge resource type"
        return usage_error(f"{what} in the cluster (is the CRD installed? try -n NAMESPACE)")
    if code in (401, 403):
        return usage_error(f"the cluster refused the request ({code} {error.reason})")
    if code == 422:
        return usage_error(f"the cluster rejected the merge: {error.reason}")
    if code == 0 or code >= 500:
        return unreachable(f"the cluster's API server answered {code or 'nothing'}: {error.reason}")
    return usage_error(f"the cluster answered {code} {error.reason}")


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}"
