"""`cluster_wire.json` (FORMAT.md §20) through the Python binding: every
`TSCX` message and `TSCR` 2PC record decodes to its kind and encodes back
to the same bytes, the all-in-one frame holds every message in order, and
every damaged frame is refused with CorruptData."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import tablesync

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load() -> Any:
    with open(VECTORS / "cluster_wire.json", encoding="utf-8") as f:
        return json.load(f)


V = load()


def test_every_kind_is_there() -> None:
    assert len(V["messages"]) == 19
    assert len(V["txn_records"]) == 5
    assert len(V["invalid"]) >= 6


@pytest.mark.parametrize("case", V["messages"], ids=lambda c: c["name"])
def test_a_message_decodes_to_its_kind_and_encodes_back(case: Any) -> None:
    frame = bytes.fromhex(case["frame_hex"])
    assert tablesync.cluster_message_kinds(frame) == [case["name"]]
    assert tablesync.cluster_messages_reencode(frame).hex() == case["frame_hex"]


def test_the_all_in_one_frame_holds_every_sample_in_order() -> None:
    frame = bytes.fromhex(V["all_in_one_frame_hex"])
    assert tablesync.cluster_message_kinds(frame) == [m["name"] for m in V["messages"]]
    assert tablesync.cluster_messages_reencode(frame).hex() == V["all_in_one_frame_hex"]


@pytest.mark.parametrize("case", V["txn_records"], ids=lambda c: c["name"])
def test_a_txn_record_decodes_to_its_kind_and_encodes_back(case: Any) -> None:
    frame = bytes.fromhex(case["frame_hex"])
    assert tablesync.txn_record_kind(frame) == case["name"]
    assert tablesync.txn_record_reencode(frame).hex() == case["frame_hex"]


@pytest.mark.parametrize("case", V["invalid"], ids=lambda c: c["why"])
def test_a_damaged_frame_is_refused(case: Any) -> None:
    assert case["error"] == "CorruptData"
    with pytest.raises(tablesync.CorruptData):
        tablesync.cluster_message_kinds(bytes.fromhex(case["frame_hex"]))


def test_a_message_frame_is_not_a_record_and_back() -> None:
    with pytest.raises(tablesync.CorruptData):
        tablesync.txn_record_kind(bytes.fromhex(V["messages"][0]["frame_hex"]))
    with pytest.raises(tablesync.CorruptData):
        tablesync.cluster_message_kinds(bytes.fromhex(V["txn_records"][0]["frame_hex"]))


MOVES = json.loads((VECTORS / "cluster_moves.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", MOVES["messages"], ids=lambda c: c["name"])
def test_a_rebalance_message_decodes_and_encodes_back(case: Any) -> None:
    """cluster_moves.json (FORMAT.md §20.2): one tag-19 message per frame."""
    frame = bytes.fromhex(case["frame_hex"])
    assert tablesync.cluster_message_kinds(frame) == ["move"]
    assert tablesync.cluster_messages_reencode(frame).hex() == case["frame_hex"]


@pytest.mark.parametrize("case", MOVES["invalid"], ids=lambda c: c["why"])
def test_a_damaged_rebalance_frame_is_refused(case: Any) -> None:
    assert case["error"] == "CorruptData"
    with pytest.raises(tablesync.CorruptData):
        tablesync.cluster_message_kinds(bytes.fromhex(case["frame_hex"]))
