"""The cluster way in (``--kube``): the VideoMerge resource itself, with the current kubeconfig.

What the API does is done here with the contract: the spec is validated by ``VideoMergeSpec``, and an
object reads as the very bodies the API answers with (``videomerge_contract.views``: status, list row,
result), so both ways in print the same thing."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from pydantic import ValidationError

from videomerge_cli.backend import MergeOptions
from videomerge_cli.model import (
    CliError,
    ExitCode,
    MergeOutcome,
    MergeState,
    outcome_from_object,
    state_from_object,
    unreachable,
    usage_error,
)
from videomerge_contract import (
    API_VERSION,
    CANCEL_PATCH,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    DeleteAction,
    VideoMergeSpec,
    cancel_requested,
    delete_action,
    delete_message,
)
from videomerge_contract.resource import APP_NAME, LABEL_NAME, LABEL_PART_OF
from videomerge_contract.views import is_deleting, list_key, status_word

NAME_PREFIX = "vm-"
REQUEST_TIMEOUT = 10
WATCH_SECONDS = 60
CANCEL_ATTEMPTS = 5
T = TypeVar("T")


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
        try:
            spec = VideoMergeSpec.model_validate(options.request_fields())
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
            (
                o
                for o in answer.get("items", [])
                if not is_deleting(o) and (status is None or status_word(o) == status)
            ),
            key=list_key,
            reverse=True,
        )
        return [state_from_object(o) for o in items[:limit]]

    def cancel(self, task_id: str) -> str:
        """What the API's DELETE does (``videomerge_contract.cancellation``): set ``spec.cancel`` on an
        unfinished merge, conditional on what was read; delete a finished one."""
        for _ in range(CANCEL_ATTEMPTS):
            obj = self._get(task_id)
            phase = (obj.get("status") or {}).get("phase")
            action = delete_action(phase, cancel_requested(obj.get("spec")))
            if action is DeleteAction.REMOVE:
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
            elif action is DeleteAction.CANCEL:
                patch = {**CANCEL_PATCH, "metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]}}
                try:
                    self._api.patch_namespaced_custom_object(
                        GROUP,
                        VERSION,
                        self.namespace,
                        PLURAL,
                        task_id,
                        patch,
                        _content_type="application/merge-patch+json",
                        _request_timeout=REQUEST_TIMEOUT,
                    )
                except ApiException as error:
                    if error.status == 409:  # changed since read (it may have finished): decide again
                        continue
                    raise _api_error(error, task_id) from None
                except (urllib3.exceptions.HTTPError, OSError) as error:
                    raise unreachable(f"cannot reach the cluster's API server: {_short(error)}") from None
            return delete_message(action, phase)
        raise usage_error(f"merge {task_id} kept changing while it was being cancelled; try again")

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
                        raise CliError(f"merge {task_id} was deleted", ExitCode.FAILED)
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
