"""Hard limits that the CRD schema enforces. Deployments may configure tighter ones, never looser."""

from typing import Final


class Limits:
    MIN_CLIPS: Final = 1
    # Ceiling of `videoUrls` in the CRD; the API's configurable default (DEFAULT_MAX_CLIPS) stays below it.
    MAX_CLIPS: Final = 200
    DEFAULT_MAX_CLIPS: Final = 50
    MAX_URL_LENGTH: Final = 2048
    MIN_URL_LENGTH: Final = 10  # "http://a.b" is the shortest useful URL
    URL_PATTERN: Final = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+[^\s]*$"
    MAX_MESSAGE_LENGTH: Final = 4096
