"""``videomerge-api``: serve the API with uvicorn, configured from the environment."""

import uvicorn

from videomerge_api.app import create_app
from videomerge_api.logs import configure_logging
from videomerge_api.settings import ApiSettings


def main() -> None:
    settings = ApiSettings()
    configure_logging(settings.log_level)
    # Our access log has a request id and no query strings; uvicorn's own would duplicate it.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
