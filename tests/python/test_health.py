"""Issue 12 in Python: the `max_clock_drift` open option and `health()`
(refusals of peer input, background failures)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tablesync
from conftest import T0


def test_max_clock_drift_default_and_option(tmp_path: Path) -> None:
    assert tablesync.Database.memory("a", clock=T0).max_clock_drift == 60_000
    assert tablesync.Database.memory("a", clock=T0, max_clock_drift=5).max_clock_drift == 5
    with tablesync.Database.open(tmp_path / "r", "a", max_clock_drift=1234) as d:
        assert d.max_clock_drift == 1234
    with pytest.raises(tablesync.InvalidArgument):
        tablesync.Database.memory("a", max_clock_drift=-1)
    with pytest.raises(TypeError):
        tablesync.Database.memory("a", max_clock_drift="soon")  # type: ignore[arg-type]


def test_health_counts_clock_drift_refusals() -> None:
    # `ahead` writes 10 minutes in the future of `behind`, which accepts
    # at most 1 minute of lead: the records are refused, counted, and
    # `behind` is unchanged.
    ahead = tablesync.Database.memory("ahead", clock=T0 + 600_000)
    behind = tablesync.Database.memory("behind", clock=T0, max_clock_drift=60_000)
    for d in (ahead, behind):
        d.create_table("t", primary_key=[("k", "INTEGER")])
    ahead.put_row("t", {"k": 1}, {"v": "x"})
    h = behind.health()
    assert (h.clock_drift_refusals, h.peer_violations, h.background_failures) == (0, 0, 0)
    assert h.last_background_error is None
    with pytest.raises(tablesync.TablesyncError):
        behind.sync_with(ahead, mode="incremental", direction="pull")
    h = behind.health()
    assert h.clock_drift_refusals >= 1
    assert "clock_drift_refusals=" in repr(h)
    assert behind.get_row("t", {"k": 1}) is None
    # With a larger limit the same records are accepted.
    patient = tablesync.Database.memory("patient", clock=T0, max_clock_drift=3_600_000)
    patient.create_table("t", primary_key=[("k", "INTEGER")])
    patient.sync_with(ahead, mode="incremental", direction="pull")
    assert patient.get_row("t", {"k": 1}) is not None
    assert patient.health().clock_drift_refusals == 0
