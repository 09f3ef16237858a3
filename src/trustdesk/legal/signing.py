"""The provider's Ed25519 signing key: it signs request receipts now, and disclosure packages
(issue 4) with the same key, so that an authority can check both against the public key
published at /.well-known/lawful-requests.json.

The private key is a file under the data directory (keys/), owner-only, never logged or sent
anywhere. It is not a blob: a secret is not content to share by its hash, and a key must not
be made inside a request's transaction. The server creates it at start-up (`create_app`),
before any request; every host of one deployment must read the same file (a shared data
directory, or the file provisioned on each), or each would sign with a key of its own."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

KEY_FILE = Path("keys") / "disclosure-ed25519.key"


@dataclass(frozen=True)
class ProviderKey:
    signing_key: SigningKey

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(bytes(self.signing_key.verify_key)).decode()

    @property
    def key_id(self) -> str:
        """A short, stable name for the key: the first 16 hex digits of the public key."""
        return bytes(self.signing_key.verify_key).hex()[:16]

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self.signing_key.sign(payload).signature).decode()

    def sign_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document with a detached signature over its canonical JSON."""
        body = canonical(document)
        return {**document, "signature": {"alg": "Ed25519", "key_id": self.key_id, "value": self.sign(body)}}


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def load_or_create(data_dir: Path) -> ProviderKey:
    """The key in `data_dir`, created if there is none. Creation is atomic and race-free: the
    new key is written owner-only to a private temporary file, fsynced and hard-linked into
    place, which fails if another process (a second worker, a second host on the shared
    directory) got there first; then the key on disk is read back, so every process signs
    with the same one."""
    path = data_dir / KEY_FILE
    if not path.exists():
        _create(path)
    return ProviderKey(SigningKey(base64.b64decode(path.read_bytes())))


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".part")  # mode 0o600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(bytes(SigningKey.generate())))
            fh.flush()
            os.fsync(fh.fileno())
        os.link(partial, path)
    except FileExistsError:
        pass  # another process made it: theirs is the key
    finally:
        os.unlink(partial)


def verify_document(signed: dict[str, Any], public_key_b64: str) -> bool:
    """True when `signed` carries a valid signature by that key over the rest of it."""
    document = {k: v for k, v in signed.items() if k != "signature"}
    try:
        VerifyKey(base64.b64decode(public_key_b64)).verify(canonical(document), base64.b64decode(signed["signature"]["value"]))
    except (BadSignatureError, KeyError, ValueError):
        return False
    return True


@cache
def provider_key(data_dir: Path) -> ProviderKey:
    """The key of the instance whose data directory is `data_dir`, loaded once per process."""
    return load_or_create(data_dir)
