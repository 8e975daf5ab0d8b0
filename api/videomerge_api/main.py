"""``videomerge-api``: serve the API with uvicorn, configured from the environment."""

import logging

import uvicorn
from prometheus_client import start_http_server

from videomerge_api.app import create_app
from videomerge_api.logs import configure_logging
from videomerge_api.settings import ApiSettings


def main() -> None:
    settings = ApiSettings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    if settings.metrics_port:
        # Its own port, without auth, so Prometheus can scrape it; the API's port keeps requiring a token.
        start_http_server(settings.metrics_port, settings.host, registry=app.state.metrics.registry)
        logging.getLogger(__name__).info(
            "metrics at http://%s:%d/metrics", settings.host, settings.metrics_port
        )
    # Our access log has a request id and no query strings; uvicorn's own would duplicate it.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
