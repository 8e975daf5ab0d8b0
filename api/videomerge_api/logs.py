"""Logging for the server process: records are queued and written by a background thread, so the
per-request access line costs the event loop a queue put rather than a write to stderr."""

import atexit
import logging
import logging.handlers
import queue
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str) -> None:
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter(FORMAT))
    listener = logging.handlers.QueueListener(records, writer, respect_handler_level=False)
    listener.start()
    atexit.register(listener.stop)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())
