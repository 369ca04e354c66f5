"""tablesync.backup_server: backups of a region held by a running server,
taken from its consistent snapshot (GET /v1/snapshot) while it serves."""

import pathlib

import pytest

import tablesync

TOKEN = "backup-token"


def test_backups_of_a_served_region_restore_to_its_digest(tmp_path: pathlib.Path) -> None:
    db = tablesync.Database.memory("eu")
    db.create_table("users", primary_key=[("uid", "INTEGER")])
    for i in range(50):
        db.put_row("users", {"uid": i}, {"name": f"user {i}"})
    repo = str(tmp_path / "repo")
    with db.serve("127.0.0.1:0", token=TOKEN, read_tokens=["reader"]) as server:
        url = server.url
        with pytest.raises(tablesync.TablesyncError):
            tablesync.backup_server(url, repo, token="wrong")

        full = tablesync.backup_server(url, repo, token="reader", passphrase="pw")
        assert full.kind == "full" and full.rows == 50 and full.region == "eu"
        full_digest = db.table_digest("users")
        assert not tablesync.backup_server(url, repo, token="reader", passphrase="pw").created

        # Writes while the server runs; the next backup holds only them.
        for i in range(40, 60):
            db.put_row("users", {"uid": i}, {"name": f"new {i}"})
        db.delete_row("users", {"uid": 1})
        inc = tablesync.backup_server(url, repo, token="reader", passphrase="pw")
        assert inc.kind == "incremental" and inc.parent == full.id and inc.records == 21

        latest = tablesync.restore(repo, passphrase="pw")
        assert latest.region == "eu"
        assert latest.table_digest("users") == db.table_digest("users")
        assert tablesync.restore(repo, backup=full.id, passphrase="pw").table_digest("users") == full_digest
        report = tablesync.Backups(repo, passphrase="pw").verify(deep=True)
        assert report.ok and report.backups_replayed == 2
