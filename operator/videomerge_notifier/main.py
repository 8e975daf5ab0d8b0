"""``videomerge-notifier``: delivers completion webhooks until SIGTERM.

Exit codes: 0 after a graceful stop, 2 on a configuration error (settings, or the signing secret).
"""

import asyncio
import logging
import signal
import sys
from typing import Final

from pydantic import ValidationError

from videomerge_notifier.metrics import NotifierMetrics
from videomerge_notifier.notifier import Notifier
from videomerge_notifier.settings import NotifierSettings
from videomerge_notifier.signing import SecretError, load_secret
from videomerge_operator.http_server import bound_port, start_http_server
from videomerge_operator.kube import KubeApi, connection_pool_size, load_api_client
from videomerge_operator.logs import configure_logging

log = logging.getLogger("videomerge_notifier")
EXIT_BAD_CONFIG: Final = 2
# Status patches and Events; the watch threads have connections of their own.
KUBE_CONCURRENCY: Final = 4


async def _serve(settings: NotifierSettings) -> int:
    api_client = load_api_client(settings.kubeconfig, connection_pool_size(KUBE_CONCURRENCY) + 4)
    kube = KubeApi(api_client, KUBE_CONCURRENCY)
    notifier = Notifier(settings, kube, api_client, metrics=NotifierMetrics())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, notifier.shutdown)
    http = await start_http_server(
        settings.http_host, settings.http_port, notifier.metrics, notifier.readiness
    )
    log.info("probes and metrics", extra={"port": bound_port(http)})
    try:
        await notifier.run()
    finally:
        await http.cleanup()
        kube.close()
    log.info("notifier stopped")
    return 0


def main() -> None:
    try:
        settings = NotifierSettings()
    except ValidationError as exc:
        print(f"videomerge-notifier: bad configuration:\n{exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    configure_logging(settings.log_level, settings.log_format)
    try:
        load_secret(settings.secret_file)
    except SecretError as exc:
        print(f"videomerge-notifier: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    sys.exit(asyncio.run(_serve(settings)))


if __name__ == "__main__":
    main()
