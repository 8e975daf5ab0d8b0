"""Signatures follow Standard Webhooks: checked by hand (hmac/hashlib) and by the library's verifier."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from videomerge_notifier.signing import SecretError, load_secret, signed_headers

KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def test_signature_is_hmac_sha256_of_id_timestamp_and_body_by_hand():
    body = b'{"type":"merge.completed","task_id":"vm-1"}'
    now = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    headers = signed_headers(SECRET, "msg_abc", body, now)
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp())) == "1767323045"
    expected = hmac.new(KEY, b"msg_abc.1767323045." + body, hashlib.sha256).digest()
    version, signature = headers["webhook-signature"].split(",")
    assert version == "v1"
    assert base64.b64decode(signature) == expected


def test_library_verifier_accepts_it_and_rejects_a_changed_body():
    body = b'{"type":"merge.failed","task_id":"vm-2","error":"clip 1: HTTP 404"}'
    headers = signed_headers(SECRET, "msg_x", body, datetime.now(UTC))
    assert Webhook(SECRET).verify(body, headers)["task_id"] == "vm-2"
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"404", b"200"), headers)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


def test_load_secret_reads_a_whsec_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    assert load_secret(str(path)) == SECRET


@pytest.mark.parametrize("content", ["", "not-a-secret", "whsec_", "whsec_%%%notbase64"])
def test_load_secret_refuses_malformed_secrets(tmp_path, content):
    path = tmp_path / "secret"
    path.write_text(content)
    with pytest.raises(SecretError, match="whsec_"):
        load_secret(str(path))


def test_load_secret_names_a_missing_file(tmp_path):
    with pytest.raises(SecretError, match="cannot read"):
        load_secret(str(tmp_path / "absent"))
