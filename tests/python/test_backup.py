"""Backups from Python: Database.backup, tablesync.restore, tablesync.Backups."""

import datetime
import pathlib

import pytest

import tablesync


def _source(tmp_path: pathlib.Path) -> tablesync.Database:
    db = tablesync.Database.memory("eu")
    db.create_table("users", primary_key=[("uid", "INTEGER")])
    for i in range(30):
        db.put_row("users", {"uid": i}, {"name": f"user {i}"})
    return db


def test_backup_list_verify_restore(tmp_path: pathlib.Path) -> None:
    db = _source(tmp_path)
    repo = str(tmp_path / "repo")
    full = db.backup(repo)
    assert full.kind == "full" and full.rows == 30 and full.created
    full_digest = db.table_digest("users")
    db.delete_row("users", {"uid": 3})
    inc = db.backup(repo)
    assert inc.kind == "incremental" and inc.parent == full.id and inc.records == 1
    assert not db.backup(repo).created

    backups = tablesync.Backups(repo)
    assert [b.id for b in backups.list()] == [full.id, inc.id]
    report = backups.verify(deep=True)
    assert report.ok and report.problems == [] and report.backups_replayed == 2

    latest = tablesync.restore(repo)
    assert latest.region == "eu"
    assert latest.table_digest("users") == db.table_digest("users")
    old = tablesync.restore(repo, backup=full.id[:8])
    assert old.table_digest("users") == full_digest
    at_point = tablesync.restore(repo, at_stamp=full.point)
    assert at_point.table_digest("users") == full_digest
    long_ago = tablesync.restore(repo, at=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
    assert long_ago.describe_table("users").row_count == 0
    renamed = tablesync.restore(repo, tables=["users"], rename={"users": "users_old"})
    assert renamed.list_tables() == ["users_old"]

    durable = tablesync.restore(repo, str(tmp_path / "restored"))
    assert durable.table_digest("users") == db.table_digest("users")
    durable.close()
    reopened = tablesync.Database.open(str(tmp_path / "restored"), region="eu")
    assert reopened.table_digest("users") == db.table_digest("users")
    reopened.close()

    assert backups.prune(keep_last=1) == []  # the last backup needs its full parent


def test_encrypted_repository(tmp_path: pathlib.Path) -> None:
    db = _source(tmp_path)
    repo = str(tmp_path / "repo")
    db.backup(repo, passphrase="correct horse")
    with pytest.raises(tablesync.TablesyncError) as e:
        tablesync.Backups(repo)
    assert e.value.code == "BackupKeyInvalid"
    with pytest.raises(tablesync.TablesyncError) as e:
        tablesync.restore(repo, passphrase="correct horsE")
    assert e.value.code == "BackupKeyInvalid"
    restored = tablesync.restore(repo, passphrase=b"correct horse")
    assert restored.table_digest("users") == db.table_digest("users")


def test_damage_is_reported(tmp_path: pathlib.Path) -> None:
    db = _source(tmp_path)
    repo = tmp_path / "repo"
    db.backup(str(repo))
    for chunk in (repo / "chunks").rglob("*"):
        if chunk.is_file():
            data = bytearray(chunk.read_bytes())
            data[-1] ^= 1
            chunk.write_bytes(bytes(data))
    report = tablesync.Backups(str(repo)).verify()
    assert not report.ok and report.problems
    with pytest.raises(tablesync.CorruptData) as e:
        tablesync.restore(str(repo))
    assert e.value.code == "BackupCorrupt"
    with pytest.raises(TypeError):
        tablesync.restore(str(repo), at="yesterday")
