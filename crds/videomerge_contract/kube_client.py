"""The one way the API, the operator and the worker reach the Kubernetes API server.

In a pod: the pod's ServiceAccount (in-cluster config, honouring ``KUBERNETES_SERVICE_HOST``/``PORT``).
Elsewhere: the kubeconfig named by the component's setting, else ``$KUBECONFIG``, else ``~/.kube/config``.
An explicitly configured kubeconfig wins over the in-cluster identity. Every call gets a timeout unless the
caller passes its own (a watch does: its read timeout must outlast the server-side watch).

Needs the ``kubernetes`` package, which every component installs; the contract's models do not.
"""

import os
from pathlib import Path
from typing import Any, Final

from kubernetes import client, config

# (connect, read) seconds: a dead API server is noticed in seconds, a slow answer gets half a minute.
DEFAULT_TIMEOUT: Final = (5.0, 30.0)


def load_configuration(kubeconfig: str | Path | None = None) -> Any:
    """A ``kubernetes.client.Configuration``: the given kubeconfig, else in-cluster, else the default one."""
    configuration = client.Configuration()
    if kubeconfig is not None and str(kubeconfig).strip():
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)  # type: ignore[no-untyped-call]
        return configuration
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        # Read now: the client library reads $KUBECONFIG once, when it is imported.
        default = os.environ.get("KUBECONFIG") or "~/.kube/config"
        config.load_kube_config(config_file=default, client_configuration=configuration)  # type: ignore[no-untyped-call]
    return configuration


class TimeoutApiClient(client.ApiClient):
    """An ``ApiClient`` whose calls time out after ``timeout`` unless the caller gives its own."""

    def __init__(self, configuration: Any, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__(configuration)
        self.default_timeout = timeout

    def call_api(
        self,
        method: str,
        url: str,
        header_params: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> Any:
        timeout = self.default_timeout if _request_timeout is None else _request_timeout
        return super().call_api(method, url, header_params, body, post_params, _request_timeout=timeout)


def api_client(
    kubeconfig: str | Path | None = None,
    *,
    pool_size: int | None = None,
    retries: int | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> Any:
    """A ready ``ApiClient``. ``pool_size``: connections kept (one per thread that may call at once);
    ``retries``: urllib3's connection retries (the client's default is 3)."""
    configuration = load_configuration(kubeconfig)
    if pool_size is not None:
        configuration.connection_pool_maxsize = pool_size
    if retries is not None:
        configuration.retries = retries
    return TimeoutApiClient(configuration, timeout)
