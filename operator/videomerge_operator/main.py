"""``videomerge-operator``: probes and metrics first, then the Lease, then kopf and the controller.

Exit codes: 0 after a graceful stop (SIGTERM/SIGINT; the Lease is handed over), 1 when leadership was lost
(Kubernetes restarts the pod, which then waits as a standby), 2 on a configuration error.
"""

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Final

import kopf
from pydantic import ValidationError

from videomerge_operator import kopf_gate
from videomerge_operator.cache import KopfIndexCache
from videomerge_operator.controller import Controller
from videomerge_operator.handlers import build_registry, kopf_settings
from videomerge_operator.http_server import start_http_server
from videomerge_operator.kube import KubeApi, connection_pool_size, load_api_client
from videomerge_operator.leader import LeaderElector, LeadershipLostError
from videomerge_operator.logs import configure_logging
from videomerge_operator.metrics import OperatorMetrics
from videomerge_operator.settings import OperatorSettings

log = logging.getLogger("videomerge_operator")
EXIT_LOST_LEADERSHIP: Final = 1
EXIT_BAD_CONFIG: Final = 2
STOP_GRACE_SECONDS: Final = 5.0


class Operator:
    def __init__(self, settings: OperatorSettings) -> None:
        self.settings = settings
        self.metrics = OperatorMetrics()
        pool_size = connection_pool_size(settings.api_concurrency)
        self.kube = KubeApi(load_api_client(settings.kubeconfig, pool_size), settings.api_concurrency)
        self.elector = LeaderElector(self.kube, settings) if settings.leader_election else None
        self.stop = asyncio.Event()
        self.kopf_ready = asyncio.Event()

    def readiness(self) -> tuple[bool, dict[str, object]]:
        leading = self.elector is None or self.elector.leading
        ready = self.kopf_ready.is_set() if leading else bool(self.elector and self.elector.healthy())
        return ready, {"role": "leader" if leading else "standby", "identity": self.settings.identity}

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        s = self.settings
        http = await start_http_server(s.http_host, s.http_port, self.metrics, self.readiness)
        log.info("operator starting", extra={"identity": s.identity, "port": s.http_port})
        try:
            if self.elector is not None and not await self._until_leader(self.elector):
                return 0
            return await self._lead()
        finally:
            await http.cleanup()
            self.kube.close()

    async def _until_leader(self, elector: LeaderElector) -> bool:
        acquiring = asyncio.create_task(elector.acquire())
        stopping = asyncio.create_task(self.stop.wait())
        await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (acquiring, stopping):
            task.cancel()
        return acquiring.done() and not acquiring.cancelled() and not self.stop.is_set()

    async def _lead(self) -> int:
        self.metrics.leader.set(1)
        cache = KopfIndexCache()
        controller = Controller(self.settings, self.kube, cache, self.metrics)
        registry = build_registry(controller, cache, self.settings)
        kopf_stop = asyncio.Event()
        lost = asyncio.Event()
        # Created before kopf starts: kopf cancels every task born while it runs when it stops.
        controlling = asyncio.create_task(controller.run(), name="controller")
        holding = asyncio.create_task(self._hold(lost, kopf_stop, controlling), name="lease")
        stopper = asyncio.create_task(self._stop_kopf_on(self.stop, kopf_stop), name="stopper")
        s = self.settings
        kopf_gate.install()
        opening = asyncio.create_task(self._open_when_indexed(controller), name="indexed")
        try:
            await kopf.operator(
                registry=registry,
                settings=kopf_settings(),
                standalone=True,
                clusterwide=not s.namespaces,
                namespaces=s.namespaces,
                stop_flag=kopf_stop,
                ready_flag=self.kopf_ready,
            )
        finally:
            for task in (controlling, holding, stopper, opening):
                task.cancel()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(controlling, holding, stopper, opening, return_exceptions=True),
                    STOP_GRACE_SECONDS,
                )
            self.metrics.leader.set(0)
        if lost.is_set():
            log.error("lost leadership: exiting so that only one replica acts")
            return EXIT_LOST_LEADERSHIP
        if self.elector is not None:
            await self.elector.release()
        log.info("operator stopped")
        return 0

    async def _hold(
        self, lost: asyncio.Event, kopf_stop: asyncio.Event, controlling: asyncio.Task[None]
    ) -> None:
        if self.elector is None:
            await asyncio.Event().wait()
            return
        try:
            await self.elector.hold()
        except LeadershipLostError as error:
            log.error("%s", error)
            lost.set()
            controlling.cancel()  # stop acting first; kopf's watches can wind down after
            kopf_stop.set()

    @staticmethod
    async def _open_when_indexed(controller: Controller) -> None:
        """The first handler call opens the controller; with nothing listed there is none (see kopf_gate)."""
        await kopf_gate.indexed()
        controller.ready.set()

    @staticmethod
    async def _stop_kopf_on(stop: asyncio.Event, kopf_stop: asyncio.Event) -> None:
        await stop.wait()
        kopf_stop.set()


def main() -> None:
    try:
        settings = OperatorSettings()
    except ValidationError as error:
        print(f"videomerge-operator: bad configuration:\n{error}", file=sys.stderr)
        sys.exit(EXIT_BAD_CONFIG)
    configure_logging(settings.log_level, settings.log_format)
    code = asyncio.run(Operator(settings).run())
    logging.shutdown()
    # Threads blocked in HTTP calls must not delay the exit of a replica that may no longer act.
    os._exit(code)


if __name__ == "__main__":
    main()
