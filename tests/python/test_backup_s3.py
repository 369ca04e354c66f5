"""Backups in S3-compatible object storage from Python, against a real
`moto_server` this module starts on 127.0.0.1 (scripts/test-python installs
`moto[server]` into the venv). Without moto the tests fail when CI or
TABLESYNC_REQUIRE_S3 is set, and are reported as skipped (with the reason)
elsewhere."""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Iterator

import pytest

import tablesync


def _moto_binary() -> str | None:
    env = os.environ.get("TABLESYNC_MOTO_SERVER")
    if env:
        return env
    beside = pathlib.Path(sys.executable).parent / "moto_server"
    if beside.is_file():
        return str(beside)
    return shutil.which("moto_server")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    binary = _moto_binary()
    if binary is None:
        message = "moto_server not found: pip install 'moto[server]' (scripts/test-python does) or set TABLESYNC_MOTO_SERVER"
        if os.environ.get("CI") or os.environ.get("TABLESYNC_REQUIRE_S3"):
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start within 60 s"
                time.sleep(0.1)
        req = urllib.request.Request(f"{endpoint}/pybackups", method="PUT")
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200
        saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "TABLESYNC_S3_ENDPOINT")}
        os.environ.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            TABLESYNC_S3_ENDPOINT=endpoint,
        )
        try:
            yield endpoint
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        proc.kill()
        proc.wait()


def test_s3_backup_list_verify_restore_prune(s3_endpoint: str, tmp_path: pathlib.Path) -> None:
    db = tablesync.Database.memory("eu")
    db.create_table("users", primary_key=[("uid", "INTEGER")])
    for i in range(30):
        db.put_row("users", {"uid": i}, {"name": f"user {i}"})
    repo = "s3://pybackups/py/eu"
    full = db.backup(repo, passphrase="s3 secret")
    assert full.kind == "full" and full.rows == 30
    full_digest = db.table_digest("users")
    db.delete_row("users", {"uid": 3})
    db.put_row("users", {"uid": 100}, {"name": "new"})
    inc = db.backup(repo, passphrase="s3 secret")
    assert inc.kind == "incremental" and inc.parent == full.id and inc.records == 2

    backups = tablesync.Backups(repo, passphrase="s3 secret")
    assert [b.id for b in backups.list()] == [full.id, inc.id]
    report = backups.verify(deep=True)
    assert report.ok and report.backups_replayed == 2, report.problems

    latest = tablesync.restore(repo, passphrase="s3 secret")
    assert latest.table_digest("users") == db.table_digest("users")
    at_point = tablesync.restore(repo, at_stamp=full.point, passphrase="s3 secret")
    assert at_point.table_digest("users") == full_digest
    durable = tablesync.restore(repo, str(tmp_path / "restored"), passphrase="s3 secret")
    assert durable.table_digest("users") == db.table_digest("users")
    durable.close()

    with pytest.raises(tablesync.TablesyncError) as err:
        tablesync.restore(repo, passphrase="S3 secret")
    assert err.value.code == "BackupKeyInvalid"

    db.put_row("users", {"uid": 101}, {"name": "newest"})
    db.backup(repo, passphrase="s3 secret", full=True)
    assert sorted(backups.prune(keep_last=1)) == sorted([full.id, inc.id])
    assert len(backups.list()) == 1
    assert backups.verify().ok

