"""Signed packages: a package verifies as built, and any change after signing, to a file,
to the manifest or to the set of files, fails `trustdesk disclosure verify`."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey
from typer.testing import CliRunner

from trustdesk.cli.main import app
from trustdesk.legal.disclosure import packages
from trustdesk.legal.disclosure.packages import PackageFile
from trustdesk.legal.signing import ProviderKey, load_or_create

FILES = [
    PackageFile("data/u1/subscriber.json", b'{"phone": "+33612000031"}', "u1", "subscriber"),
    PackageFile("data/u1/content.json", b'{"records": [{"text": "delivery at the usual place"}]}', "u1", "content"),
]


@pytest.fixture
def key(tmp_path: Path):
    return load_or_create(tmp_path)


def _build(key) -> bytes:
    return packages.build(
        header={"request": {"reference": "LR-2026-000001"}},
        files=FILES,
        not_held=[{"account_id": "u1", "category": "traffic", "note": "not held"}],
        key=key,
    )


def _rewrite(data: bytes, change) -> bytes:
    """The package with its entries passed through `change(name, bytes) -> bytes | None`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = change(name, src.read(name))
            if body is not None:
                dst.writestr(name, body)
    return out.getvalue()


def test_a_package_verifies_as_built(key) -> None:
    result = packages.verify(_build(key), public_key_b64=key.public_key_b64)
    assert result.ok and result.checked_files == 2 and result.manifest["not_held"][0]["category"] == "traffic"
    assert [f["path"] for f in result.manifest["files"]] == [f.path for f in FILES]


def test_an_altered_file_fails(key) -> None:
    tampered = _rewrite(_build(key), lambda n, b: b.replace(b"usual", b"other") if n.endswith("content.json") else b)
    result = packages.verify(tampered, public_key_b64=key.public_key_b64)
    assert not result.ok and "data/u1/content.json was altered" in result.problems[0]


def test_an_edited_manifest_fails_the_signature(key) -> None:
    def edit(name: str, body: bytes) -> bytes:
        if name != packages.MANIFEST:
            return body
        manifest = json.loads(body)
        manifest["not_held"] = []
        return packages.json_bytes(manifest)

    result = packages.verify(_rewrite(_build(key), edit), public_key_b64=key.public_key_b64)
    assert not result.ok and "signature" in result.problems[0]


def test_a_removed_or_added_file_fails(key) -> None:
    removed = _rewrite(_build(key), lambda n, b: None if n.endswith("subscriber.json") else b)
    assert "missing" in packages.verify(removed, public_key_b64=key.public_key_b64).problems[0]
    out = io.BytesIO(_build(key))
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("data/u2/extra.json", b"{}")
    assert "not in the manifest" in packages.verify(out.getvalue(), public_key_b64=key.public_key_b64).problems[0]


def test_another_key_or_no_zip_fails(key, tmp_path: Path) -> None:
    other = load_or_create(tmp_path / "other")
    assert not packages.verify(_build(key), public_key_b64=other.public_key_b64).ok
    assert "not a readable ZIP" in packages.verify(b"hello").problems[0]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([f.path for f in FILES]), st.data())
def test_any_flipped_byte_in_a_file_is_caught(path: str, data) -> None:
    key = ProviderKey(SigningKey(b"k" * 32))
    original = next(f.data for f in FILES if f.path == path)
    index = data.draw(st.integers(0, len(original) - 1))
    flip = data.draw(st.integers(1, 255))

    def change(name: str, body: bytes) -> bytes:
        return body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :] if name == path else body

    assert not packages.verify(_rewrite(_build(key), change), public_key_b64=key.public_key_b64).ok


def test_the_verify_command_passes_a_good_package_and_fails_an_altered_one(key, tmp_path: Path) -> None:
    env = {"TRUSTDESK_DATA_DIR": str(tmp_path), "TRUSTDESK_DATABASE_URL": "sqlite://", "COLUMNS": "200"}
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(_build(key))
    bad.write_bytes(_rewrite(good.read_bytes(), lambda n, b: b.replace(b"+336", b"+337")))
    runner = CliRunner()
    ok = runner.invoke(app, ["disclosure", "verify", str(good)], env=env)
    assert ok.exit_code == 0 and "package verified" in ok.output and "this instance's signing key" in ok.output
    failed = runner.invoke(app, ["disclosure", "verify", str(bad)], env=env)
    assert failed.exit_code == 1 and "subscriber.json was altered" in failed.output
    discovery = tmp_path / "lawful-requests.json"
    discovery.write_text(json.dumps({"disclosure_signing_key": {"public_key": load_or_create(tmp_path / "x").public_key_b64}}))
    wrong_key = runner.invoke(app, ["disclosure", "verify", str(good), "--discovery", str(discovery)], env=env)
    assert wrong_key.exit_code == 1 and "signature" in wrong_key.output


def test_a_package_that_expands_past_the_limit_fails_without_being_read_whole(key) -> None:
    """A 64 MiB run of zeros zips to ~64 KB; with a 1 MiB limit verify stops at 1 MiB + 1."""
    bomb = _rewrite(_build(key), lambda n, b: b)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bomb)) as src, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        with dst.open("data/u1/media/bomb", "w") as member:
            for _ in range(64):
                member.write(bytes(1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    result = packages.verify(out.getvalue(), public_key_b64=key.public_key_b64, max_bytes=1024 * 1024)
    assert not result.ok and "expands to more than 1,048,576 bytes" in result.problems[0]
    assert packages.verify(_build(key), public_key_b64=key.public_key_b64, max_bytes=1024 * 1024).ok
