"""The body and headers of a delivery, as README "Webhooks" documents them.

X-Disclosure-Signature is "sha256=" + hex HMAC-SHA256 of the hook's secret over the timestamp
(X-Disclosure-Timestamp, Unix seconds), a full stop, and the raw body: a receiver checks the
bytes it received, and a replayed old request fails its timestamp check.
"""

import hashlib
import hmac
import json


def body_of(payload):
    """The raw body: compact JSON with sorted keys (the same bytes at every attempt)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(secret, timestamp, body):
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers(*, secret, event_type, event_id, timestamp, body):
    return {
        "Content-Type": "application/json",
        "User-Agent": "Disclosure-Webhooks/1",
        "X-Disclosure-Event": str(event_type),
        "X-Disclosure-Event-Id": str(event_id),
        "X-Disclosure-Timestamp": str(timestamp),
        "X-Disclosure-Signature": signature(secret, timestamp, body),
    }
