"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the ``standardwebhooks`` package.

Receivers verify with the same package (or svix's, or any Standard Webhooks library) and the same
``whsec_…`` secret: HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}``.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX: Final = "whsec_"


class SecretError(Exception):
    """The signing secret is missing or malformed."""


def load_secret(path: str) -> str:
    try:
        secret = Path(path).read_text().strip()
    except OSError as exc:
        raise SecretError(f"cannot read the webhook signing secret {path}: {exc.strerror}") from None
    if not secret.startswith(SECRET_PREFIX) or len(secret) <= len(SECRET_PREFIX):
        raise SecretError(f"the webhook signing secret in {path} must look like whsec_<base64>")
    try:
        Webhook(secret)
    except ValueError as exc:  # binascii.Error: not base64
        raise SecretError(f"the webhook signing secret in {path} is not base64 after whsec_") from exc
    return secret


def signed_headers(secret: str, webhook_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64>``)."""
    moment = now.astimezone(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, body.decode()),
    }
