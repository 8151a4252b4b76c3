"""Personal data at rest: emails, phones and IPs kept only as keyed hashes.

The collector needs an email or a phone number only to tell that two events
carry the *same* one: identity stitching joins on equality. A keyed hash
(HMAC-SHA-256 under a secret that lives in the data directory) keeps that
equality and nothing else; unlike a bare SHA-256 it cannot be reversed by
hashing every phone number there is, unless the secret leaks with the log.

So, before an event is encoded for the log, ``email`` and ``phone`` in
``traits`` and ``context.traits`` become ``email_sha256`` / ``phone_sha256``
(the engine's documented pre-hashed fields, normalised as the engine would:
email trimmed and lower-cased, phone reduced to its digits), and
``context.ip`` becomes its keyed hash. A value that cannot be an address or a
number is dropped rather than kept raw. ``--keep-raw-traits`` turns all of
this off.
"""

from __future__ import annotations

import hmac
import os
import secrets
from hashlib import sha256
from pathlib import Path
from typing import Any

SECRET_NAME = "secret.key"
DIGESTS_KEPT = 65_536  # NOTE: digest memo; equivalence tested in tests/serve/test_harden.py


def load_secret(directory: Path) -> bytes:
    """The data directory's secret, created (0600, 32 random bytes) at first start."""
    path = directory / SECRET_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    key = secrets.token_bytes(32)
    try:
        os.write(fd, key.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def _read_secret(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError(f"{path}: expected 64 hex characters (the key its hashes use)")
    return key


class Redactor:
    """Replaces raw emails, phones and IPs in an event by their keyed hashes."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self._known: dict[str, str] = {}
        self._ips: dict[str, str] = {}  # raw IP -> its stored form

    def digest(self, text: str) -> str:
        """HMAC-SHA-256 of ``text``, hex; recent answers are remembered (an app's events
        repeat the same IP and the same address many times over)."""
        known = self._known.get(text)
        if known is None:
            if len(self._known) >= DIGESTS_KEPT:
                self._known.clear()
            known = self._known[text] = hmac.new(self.secret, text.encode(), sha256).hexdigest()
        return known

    def __call__(self, event: dict[str, Any]) -> None:
        """Redact ``event`` in place (nested dicts shared with the batch context are
        replaced, never changed)."""
        traits = event.get("traits")
        if type(traits) is dict and ("email" in traits or "phone" in traits):
            event["traits"] = self._traits(traits)
        context = event.get("context")
        if type(context) is not dict:
            return
        inner = context.get("traits")
        if not (isinstance(inner, dict) and ("email" in inner or "phone" in inner)):
            inner = None
        # The event's context is its own dict (parsed for it, or merged afresh from the
        # batch context by validate.build_batch): set keys in place; nested dicts may be
        # shared with the batch context, so they are replaced, not changed.
        if inner is not None:
            context["traits"] = self._traits(inner)
        ip = context.get("ip")
        if type(ip) is str:
            hashed = self._ips.get(ip)
            if hashed is None:
                if len(self._ips) >= DIGESTS_KEPT:
                    self._ips.clear()
                hashed = self._ips[ip] = self.digest("ip:" + ip)[:32]
            context["ip"] = hashed

    def _traits(self, traits: dict[str, Any]) -> dict[str, Any]:
        out = dict(traits)
        email = out.pop("email", None)
        if type(email) is str:
            folded = email.strip().lower()
            if "@" in folded and not folded.startswith("@") and not folded.endswith("@"):
                out["email_sha256"] = self.digest(folded)
        phone = out.pop("phone", None)
        if type(phone) in (str, int):
            digits = "".join(ch for ch in str(phone) if ch.isdigit())
            if len(digits) >= 7 and set(digits) != {"0"}:
                out["phone_sha256"] = self.digest(digits)
        return out
