"""Point-in-time export of one table of a backup repository (CSV or JSON Lines)."""

from __future__ import annotations

import base64
import csv
import json
import os
from typing import Any, Dict, List, Optional, Union

from ._tablesync import restore


def _cell(v: Any) -> Any:
    if isinstance(v, bytes):
        return {"$bytes": base64.b64encode(v).decode("ascii")}
    return v


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def export(
    repo: str,
    table: str,
    path: Union[str, "os.PathLike[str]"],
    *,
    format: str = "jsonl",
    at: Any = None,
    at_stamp: Optional[int] = None,
    backup: Optional[str] = None,
    passphrase: Union[str, bytes, None] = None,
    key_file: Union[str, "os.PathLike[str]", None] = None,
) -> int:
    """Write ``table`` as of a point of the backup repository ``repo`` (a
    directory or an ``s3://``/``oss://``/``gs://``/``az://`` URL) to ``path``.

    The point is the latest backup, ``backup=ID``, ``at=datetime`` or
    ``at_stamp=STAMP``; the table is restored in memory first (every digest
    checked). ``format`` is ``"jsonl"`` (one ``{"pk": {...}, "columns": {...}}``
    object per row; bytes as ``{"$bytes": base64}``) or ``"csv"`` (primary-key
    columns, then every attribute column in name order; bytes in base64).
    Returns the number of rows written."""
    if format not in ("jsonl", "csv"):
        raise ValueError(f"format must be 'jsonl' or 'csv', not {format!r}")
    db = restore(
        repo,
        at=at,
        at_stamp=at_stamp,
        backup=backup,
        tables=[table],
        passphrase=passphrase,
        key_file=key_file,
    )
    rows = list(db.scan(table))
    pk_names = [str(c[0]) for c in db.describe_table(table).primary_key]
    n = 0
    tmp = f"{os.fspath(path)}.partial"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        if format == "jsonl":
            for row in rows:
                obj: Dict[str, Any] = {
                    "pk": {k: _cell(v) for k, v in row.primary_key.items()},
                    "columns": {k: _cell(v) for k, v in sorted(row.columns.items())},
                }
                f.write(json.dumps(obj, sort_keys=True) + "\n")
                n += 1
        else:
            attrs = sorted({k for row in rows for k in row.columns})
            w = csv.writer(f)
            w.writerow(pk_names + attrs)
            for row in rows:
                pk = row.primary_key
                cols = row.columns
                line: List[str] = [_text(pk[k]) for k in pk_names]
                line += [_text(cols[a]) if a in cols else "" for a in attrs]
                w.writerow(line)
                n += 1
    os.replace(tmp, path)
    db.close()
    return n
