"""Durable regions (`Database.open`): reopen, lock, crash without close.

These depend on the core's durable directory storage (feature `fs`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tablesync


def test_reopen_keeps_rows_log_and_digest(tmp_path: Path) -> None:
    path = tmp_path / "region"
    with tablesync.Database.open(path, region="eu") as db:
        assert db.is_durable
        db.create_table("users", [("uid", "INTEGER")], max_versions=2)
        db.put_row("users", {"uid": 1}, {"name": "Ada"})
        db.batch_write([{"op": "put", "table": "users", "primary_key": {"uid": k}, "columns": {"v": k}}
                        for k in range(2, 100)])
        db.update_row("users", {"uid": 1}, increment={"n": 3})
        db.delete_row("users", {"uid": 50})
        digest = db.table_digest("users")
        changes = db.changes_since(0, 10_000)
        vv = db.version_vector()
    with tablesync.Database.open(str(path), region="eu") as db:
        assert db.table_digest("users") == digest
        assert db.verify_table_digest("users") == digest
        assert db.changes_since(0, 10_000) == changes
        assert db.version_vector() == vv
        assert db.get_row("users", {"uid": 1}).columns == {"n": 3, "name": "Ada"}
        assert db.describe_table("users").row_count == 98
        db.put_row("users", {"uid": 1000}, {"v": 1})  # writes continue after reopen
        assert db.changes_since(0, 10_000).records[-1]["seq"] == vv["eu"] + 1


def test_checkpoint_then_reopen(tmp_path: Path) -> None:
    with tablesync.Database.open(tmp_path, region="eu", sync="batch", checkpoint_bytes=4096) as db:
        db.create_table("t", [("k", "STRING")])
        for i in range(300):
            db.put_row("t", {"k": f"key{i:04}"}, {"v": i, "pad": "x" * 50})
        db.checkpoint()
        db.put_row("t", {"k": "after"}, {"v": -1})
        db.flush()
        digest = db.table_digest("t")
    with tablesync.Database.open(tmp_path, region="eu", sync="never") as db:
        assert db.table_digest("t") == digest
        assert db.get_row("t", {"k": "after"})["v"] == -1


def test_one_owner_at_a_time(tmp_path: Path) -> None:
    db = tablesync.Database.open(tmp_path, region="eu")
    with pytest.raises(tablesync.StorageError) as ei:
        tablesync.Database.open(tmp_path, region="eu")
    assert ei.value.code == "StorageLocked"
    db.close()  # releases the lock
    tablesync.Database.open(tmp_path, region="eu").close()


def test_wrong_region_for_directory(tmp_path: Path) -> None:
    with tablesync.Database.open(tmp_path, region="eu") as db:
        db.create_table("t", [("k", "INTEGER")])
        db.checkpoint()
    with pytest.raises(tablesync.InvalidArgument) as e:
        tablesync.Database.open(tmp_path, region="us")
    assert e.value.code == "RegionMismatch"


def test_wrong_region_is_refused_before_any_checkpoint(tmp_path: Path) -> None:
    # The directory's MANIFEST names its region from creation on.
    with tablesync.Database.open(tmp_path, region="eu") as db:
        db.create_table("t", [("k", "INTEGER")])
    assert (tmp_path / "MANIFEST").exists()
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(tablesync.InvalidArgument) as e:
        tablesync.Database.open(tmp_path, region="us")
    assert e.value.code == "RegionMismatch"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with tablesync.Database.open(tmp_path, region="eu") as db:
        assert db.list_tables() == ["t"]


def test_path_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_bytes(b"not a directory")
    with pytest.raises(tablesync.StorageError) as ei:
        tablesync.Database.open(f)
    assert ei.value.code == "StorageIo"


def test_process_exit_without_close_loses_nothing(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, tablesync
        db = tablesync.Database.open({str(tmp_path)!r}, region="eu", sync="never")
        db.create_table("t", [("k", "INTEGER")])
        for k in range(500):
            db.put_row("t", {{"k": k}}, {{"v": k}})
        print(db.table_digest("t"), flush=True)
        os._exit(0)  # no close, no flush
        """
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    digest = out.stdout.strip()
    with tablesync.Database.open(tmp_path, region="eu") as db:
        assert db.table_digest("t") == digest
        assert db.describe_table("t").row_count == 500


def test_paged_region_keeps_rows_on_disk_behind_its_cache(tmp_path: Path) -> None:
    """`cache_bytes`: rows in the page store; a reopen reads no row, a get
    faults in one page, and the cache bounds what reads keep resident."""
    path = tmp_path / "paged"
    with tablesync.Database.open(path, region="eu", sync="never", cache_bytes=64 * 1024) as db:
        assert db.paged_stats() is not None
        db.create_table("t", [("k", "INTEGER")])
        for start in range(0, 20_000, 200):
            db.batch_write([{"op": "put", "table": "t", "primary_key": {"k": k},
                             "columns": {"v": "x" * 80, "n": k}} for k in range(start, start + 200)])
        db.checkpoint()
        stats = db.paged_stats()
        # Checkpoints came every 1 MiB of log during the load too; the last
        # one stored what changed since.
        assert stats is not None and stats["checkpoint_pages"] > 0
        assert stats["log_records_in_memory"] == 0 and stats["log_records_in_store"] == 20_000
        assert stats["resident_bytes"] <= 64 * 1024
        digest = db.table_digest("t")
    with tablesync.Database.open(path, region="eu") as db:
        stats = db.paged_stats()
        assert stats is not None
        assert stats["resident_bytes"] == 0 and stats["cache_bytes"] == 256 * 1024 * 1024
        assert db.get_row("t", {"k": 12_345}).columns["n"] == 12_345
        assert db.paged_stats()["page_loads"] == 1  # type: ignore[index]
        assert db.table_digest("t") == digest
        assert db.verify_table_digest("t") == digest
    with tablesync.Database.open(path, region="eu", cache_bytes=32 * 1024) as db:
        for k in range(0, 20_000, 7):  # reads all over the table
            assert db.get_row("t", {"k": k}).columns["n"] == k
        stats = db.paged_stats()
        assert stats is not None and stats["page_loads"] > 100
        assert stats["resident_bytes"] <= 32 * 1024 + 64 * 1024  # the cache and the last reads
        # The cache bounds the whole footprint: index and slack come out of it
        # (a tiny cache keeps at least a quarter of it for pages).
        assert stats["index_bytes"] > 0 and stats["page_budget"] == 8 * 1024
        assert stats["spare_bytes"] <= 32 * 1024 // 16


def test_memory_directory_converts_to_pages(tmp_path: Path) -> None:
    # Paged by default.
    with tablesync.Database.open(tmp_path / "default", region="eu") as db:
        stats = db.paged_stats()
        assert stats is not None and stats["cache_bytes"] == 256 << 20
    path = tmp_path / "convert"
    with tablesync.Database.open(path, region="eu", rows_in_memory=True) as db:
        assert db.paged_stats() is None
        db.create_table("t", [("k", "INTEGER")])
        db.put_row("t", {"k": 1}, {"v": "one"})
        db.checkpoint()
        digest = db.table_digest("t")
    with tablesync.Database.open(path, region="eu", rows_in_memory=True) as db:
        assert db.paged_stats() is None
    with pytest.raises(tablesync.InvalidArgument, match="not both"):
        tablesync.Database.open(path, region="eu", rows_in_memory=True, cache_bytes=1 << 20)
    with tablesync.Database.open(path, region="eu", cache_bytes=1 << 20) as db:
        assert db.paged_stats() is not None
        assert db.table_digest("t") == digest
    with tablesync.Database.open(path, region="eu", rows_in_memory=True) as db:
        # A paged directory stays paged.
        assert db.paged_stats() is not None
        assert db.get_row("t", {"k": 1}).columns == {"v": "one"}
