"""Disclosure packages: a ZIP whose manifest lists every file with its SHA-256, signed with
the provider's Ed25519 key (the one published in the discovery document).

Pure functions of bytes, shared by the service that builds packages and by
`trustdesk disclosure verify`, which an authority can run on what it downloaded. The
signature covers the manifest's exact bytes; the manifest covers every other file; a file
that is not in the manifest is itself a failure, so nothing can be slipped in."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from trustdesk.legal.signing import ProviderKey

FORMAT = "trustdesk-disclosure/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # entries carry no wall-clock time: the manifest does
MAX_EXPANDED_BYTES = 1024 * 1024 * 1024  # the default of the archive_max_bytes setting


@dataclass(frozen=True)
class PackageFile:
    path: str
    data: bytes
    account_id: str | None = None
    category: str | None = None

    def entry(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "size": len(self.data),
            "account_id": self.account_id,
            "category": self.category,
        }


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str).encode()


def build(*, header: dict[str, Any], files: list[PackageFile], not_held: list[dict[str, str]], key: ProviderKey) -> bytes:
    """The signed ZIP. `header` says what the package answers (request, decision, versions)."""
    manifest = {
        "format": FORMAT,
        **header,
        "key": {"alg": "Ed25519", "key_id": key.key_id, "public_key": key.public_key_b64},
        "files": [f.entry() for f in files],
        "not_held": not_held,
    }
    body = json_bytes(manifest)
    signature = json_bytes({"alg": "Ed25519", "key_id": key.key_id, "signature": key.sign(body)})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [(MANIFEST, body), (SIGNATURE, signature), *((f.path, f.data) for f in files)]:
            archive.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data)
    return out.getvalue()


@dataclass
class Verification:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    checked_files: int = 0
    key_source: str = ""

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def _read(data: bytes, result: Verification, max_bytes: int) -> dict[str, bytes] | None:
    """Every entry, decompressed, or None once they pass `max_bytes` in all. Counted as they
    expand, not from the sizes the archive declares: a zip bomb declares what it likes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                result.fail("the archive holds two entries with the same name")
            entries, left = {}, max_bytes
            for name in names:
                with archive.open(name) as member:
                    entries[name] = member.read(left + 1)
                left -= len(entries[name])
                if left < 0:
                    result.fail(f"the archive expands to more than {max_bytes:,} bytes (TRUSTDESK_ARCHIVE_MAX_BYTES)")
                    return None
            return entries
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        result.fail(f"not a readable ZIP archive ({exc})")
        return None


def _check_signature(entries: dict[str, bytes], public_key_b64: str, result: Verification) -> None:
    try:
        signed = json.loads(entries[SIGNATURE])
        VerifyKey(base64.b64decode(public_key_b64)).verify(entries[MANIFEST], base64.b64decode(signed["signature"]))
    except (BadSignatureError, KeyError, ValueError, TypeError):
        result.fail("the manifest's signature does not verify with the provider's public key")


def _check_files(entries: dict[str, bytes], manifest: dict[str, Any], result: Verification) -> None:
    listed = {f["path"]: f for f in manifest.get("files", [])}
    for path, entry in listed.items():
        data = entries.get(path)
        if data is None:
            result.fail(f"{path} is listed in the manifest but missing")
        elif hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["size"]:
            result.fail(f"{path} was altered: its SHA-256 does not match the manifest")
        else:
            result.checked_files += 1
    for extra in sorted(set(entries) - set(listed) - {MANIFEST, SIGNATURE}):
        result.fail(f"{extra} is in the archive but not in the manifest")


def verify(data: bytes, *, public_key_b64: str | None = None, max_bytes: int = MAX_EXPANDED_BYTES) -> Verification:
    """Check a package: signature over the manifest, then every file against the manifest.
    Without `public_key_b64` the key named in the manifest is used, which proves integrity
    only; pass the key from the discovery document to prove who signed. An archive that
    expands past `max_bytes` fails without being read further."""
    result = Verification()
    entries = _read(data, result, max_bytes)
    if entries is None:
        return result
    if MANIFEST not in entries or SIGNATURE not in entries:
        result.fail("the package has no signed manifest")
        return result
    try:
        result.manifest = json.loads(entries[MANIFEST])
    except ValueError:
        result.fail("the manifest is not JSON")
        return result
    embedded = result.manifest.get("key", {}).get("public_key", "")
    result.key_source = "given" if public_key_b64 else "named in the package (not pinned)"
    _check_signature(entries, public_key_b64 or embedded, result)
    _check_files(entries, result.manifest, result)
    return result
