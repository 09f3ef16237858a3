"""The provider's signing key: made once, atomically, owner-only; every process that races
to make it ends up signing with the one on disk."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from trustdesk.core.settings import load_settings
from trustdesk.legal.signing import KEY_FILE, load_or_create
from trustdesk.web.app import create_app


def test_processes_racing_to_make_the_key_all_get_the_one_on_disk(tmp_path: Path) -> None:
    start, keys = threading.Barrier(8), []

    def make() -> None:
        start.wait()
        keys.append(load_or_create(tmp_path).public_key_b64)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and keys[0] == load_or_create(tmp_path).public_key_b64
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file left"


def test_the_server_makes_the_key_at_start_up_not_in_a_request(tmp_path: Path) -> None:
    create_app(load_settings(data_dir=tmp_path, database_url="sqlite://", session_cookie_secure=False))
    assert (tmp_path / KEY_FILE).is_file()
