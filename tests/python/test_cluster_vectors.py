"""`cluster_map.json` replayed by an independent Python implementation of
docs/FORMAT.md §16 (frame, payload, placement hash, rendezvous routing):
the spec alone is enough to read maps and route keys like the Rust core."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any, Dict, List, Tuple

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
M64 = (1 << 64) - 1


def load() -> Any:
    with open(VECTORS / "cluster_map.json", encoding="utf-8") as f:
        return json.load(f)


def mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def place_hash(b: bytes) -> int:
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & M64
    return mix(h)


def seed(name: str) -> int:
    return place_hash(name.encode("utf-8"))


def score(node: str, table: str, partition: int) -> int:
    return mix(seed(node) ^ mix(seed(table) ^ partition))


class Reader:
    def __init__(self, b: bytes) -> None:
        self.b, self.i = b, 0

    def take(self, n: int) -> bytes:
        if self.i + n > len(self.b):
            raise ValueError("CorruptData: truncated")
        out = self.b[self.i : self.i + n]
        self.i += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def varint(self) -> int:
        v = 0
        for k in range(10):
            x = self.u8()
            v |= (x & 0x7F) << (7 * k)
            if x < 0x80:
                return v
        raise ValueError("CorruptData: varint")

    def string(self) -> str:
        return self.take(self.varint()).decode("utf-8")


LEVELS = {1: "ONE", 2: "QUORUM", 3: "LOCAL_QUORUM", 4: "EACH_QUORUM", 5: "ALL"}


def write_mode(r: Reader) -> str:
    k = r.u8()
    if k == 1:
        return "async"
    if k == 2:
        return f"semi-sync({r.varint()}ms)"
    if k == 3:
        level = r.u8()
        if level == 6:
            return f"sync(DCS({r.u8()}))"
        if level not in LEVELS:
            raise ValueError("CorruptData: level")
        return f"sync({LEVELS[level]})"
    raise ValueError("CorruptData: write mode")


def parse_frame(frame: bytes) -> Dict[str, Any]:
    """The map of a TSCM frame, as the vectors' JSON shape."""
    if len(frame) < 14 or frame[:4] != b"TSCM":
        raise ValueError("CorruptData: magic")
    (length,) = struct.unpack("<I", frame[6:10])
    (crc,) = struct.unpack("<I", frame[10:14])
    if len(frame) != 14 + length or zlib.crc32(frame[:10] + frame[14:]) != crc:
        raise ValueError("CorruptData: length or checksum")
    assert frame[4] == 1 and frame[5] == 0
    r = Reader(frame[14:])
    (epoch,) = struct.unpack("<Q", r.take(8))
    dcs = []
    for _ in range(r.varint()):
        name = r.string()
        regions = [[r.string(), r.string()] for _ in range(r.varint())]
        dcs.append({"name": name, "regions": regions})
    tables = []
    for _ in range(r.varint()):
        table, rf = r.string(), r.u8()
        mode = write_mode(r)
        kind = r.u8()
        if kind == 1:
            placement: Dict[str, Any] = {"kind": "hash", "buckets": r.varint()}
        elif kind == 2:
            parts = []
            for _ in range(r.varint()):
                pid, start = r.varint(), r.take(r.varint()).hex()
                parts.append({"id": pid, "start_hex": start, "datacenters": [r.string() for _ in range(r.varint())]})
            placement = {"kind": "range", "partitions": parts}
        else:
            raise ValueError("CorruptData: placement")
        tables.append({"table": table, "replication_factor": rf, "write_mode": mode, "placement": placement})
    if r.i != len(r.b):
        raise ValueError("CorruptData: trailing bytes")
    # Validation (the part §16 lists that these vectors exercise).
    for t in tables:
        if not 1 <= t["replication_factor"] <= len(dcs):
            raise ValueError("CorruptData: replication factor")
    return {"epoch": str(epoch), "datacenters": dcs, "tables": tables}


def partition_key(key: bytes) -> bytes:
    """The first key part of an encoded key (FORMAT.md §3)."""
    tag = key[0]
    if tag == 0x10:
        return key[:9]
    i = 1
    while True:
        if key[i] == 0 and key[i + 1] == 0x01:
            return key[: i + 2]
        i += 2 if key[i] == 0 else 1


def route(m: Dict[str, Any], table: str, key: bytes) -> Tuple[int, List[List[str]]]:
    t = next(x for x in m["tables"] if x["table"] == table)
    pk = partition_key(key)
    by_name = {d["name"]: d for d in m["datacenters"]}
    if t["placement"]["kind"] == "hash":
        p = place_hash(pk) % t["placement"]["buckets"]
        ranked = sorted(m["datacenters"], key=lambda d: (-score(d["name"], table, p), d["name"]))
        dcs = ranked[: t["replication_factor"]]
    else:
        parts = t["placement"]["partitions"]
        chosen = [x for x in parts if bytes.fromhex(x["start_hex"]) <= pk][-1]
        p = chosen["id"]
        dcs = [by_name[n] for n in chosen["datacenters"]]
    replicas = []
    for d in dcs:
        best = max(d["regions"], key=lambda r: (score(r[0], table, p), [-c for c in r[0].encode()]))
        replicas.append([d["name"], best[0]])
    return p, replicas


def test_frames_parse_to_their_maps() -> None:
    for c in load()["maps"]:
        assert parse_frame(bytes.fromhex(c["frame_hex"])) == c["map"]


def test_placement_hash() -> None:
    for h in load()["hashes"]:
        assert str(place_hash(bytes.fromhex(h["bytes_hex"]))) == h["hash"]


def test_routes() -> None:
    v = load()
    m = v["maps"][-1]["map"]
    for r in v["routes"]:
        assert route(m, r["table"], bytes.fromhex(r["key_hex"])) == (r["partition"], r["replicas"])


def test_invalid_frames_are_refused() -> None:
    for bad in load()["invalid"]:
        try:
            parse_frame(bytes.fromhex(bad["frame_hex"]))
        except ValueError as e:
            assert str(e).startswith(bad["error"]), (bad["why"], e)
        else:
            raise AssertionError(f"accepted: {bad['why']}")


def test_stale_cluster_map_error_class() -> None:
    import tablesync

    assert issubclass(tablesync.StaleClusterMap, tablesync.TablesyncError)
    assert tablesync.StaleClusterMap.code == "StaleClusterMap"
