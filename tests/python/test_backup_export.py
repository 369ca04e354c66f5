"""tablesync.export: one table as of a point of a backup repository, as
JSON Lines or CSV."""

import csv
import json
import pathlib

import pytest

import tablesync


def test_export_a_table_as_of_a_backup(tmp_path: pathlib.Path) -> None:
    db = tablesync.Database.memory("eu")
    db.create_table("users", primary_key=[("uid", "INTEGER")])
    for i in range(5):
        db.put_row("users", {"uid": i}, {"name": f"user {i}", "blob": bytes([i])})
    repo = str(tmp_path / "repo")
    first = db.backup(repo)
    db.put_row("users", {"uid": 9}, {"name": "later", "age": 3})
    db.delete_row("users", {"uid": 0})
    db.backup(repo)

    out = tmp_path / "first.jsonl"
    assert tablesync.export(repo, "users", out, backup=first.id) == 5
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["pk"]["uid"] for r in lines] == [0, 1, 2, 3, 4]
    assert lines[1]["columns"] == {"blob": {"$bytes": "AQ=="}, "name": "user 1"}

    out_csv = tmp_path / "latest.csv"
    assert tablesync.export(repo, "users", out_csv, format="csv") == 5
    rows = list(csv.reader(out_csv.open()))
    assert rows[0] == ["uid", "age", "blob", "name"]
    assert rows[-1] == ["9", "3", "", "later"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "9"]

    at_point = tmp_path / "at.jsonl"
    assert tablesync.export(repo, "users", at_point, at_stamp=first.point) == 5
    assert at_point.read_text() == out.read_text()
    with pytest.raises(ValueError):
        tablesync.export(repo, "users", tmp_path / "x", format="xml")
