"""Shared fixtures of the Python suite."""

from __future__ import annotations

from typing import Iterator

import pytest
import tablesync

T0 = 1_700_000_000_000


@pytest.fixture
def db() -> Iterator[tablesync.Database]:
    """An in-memory region 'eu' on a manual clock at T0, with table `users(uid INTEGER)`."""
    with tablesync.Database.memory("eu", clock=T0) as d:
        d.create_table("users", primary_key=[("uid", "INTEGER")])
        yield d


@pytest.fixture
def empty_db() -> Iterator[tablesync.Database]:
    """An in-memory region 'eu' on a manual clock at T0, no tables."""
    with tablesync.Database.memory("eu", clock=T0) as d:
        yield d
