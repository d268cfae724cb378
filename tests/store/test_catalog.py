"""The store's upsert: keys, counts, and the appends of one load."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from servicelevel.errors import StoreError
from servicelevel.store import Store
from servicelevel.store.catalog import AppendLog


def contacts(*rows: tuple[str, str]) -> pa.Table:
    """Contacts of tenant t and source s: (contact_id, outcome) each."""
    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    return pa.table({
        "tenant": ["t"] * len(rows), "source": ["s"] * len(rows),
        "contact_id": [r[0] for r in rows], "outcome": [r[1] for r in rows],
        "arrived_at": pa.array([at] * len(rows), pa.timestamp("us", tz="UTC")),
    })


@pytest.fixture
def store() -> Store:
    return Store.open(":memory:")


def test_a_batch_holding_a_key_twice_is_refused_by_name(store: Store) -> None:
    with pytest.raises(StoreError, match=r"\('t', 's', 'c2'\) 2 times"):
        store.upsert("contacts", contacts(("c1", "answered"), ("c2", "answered"),
                                          ("c2", "abandoned")))
    assert store.count("contacts") == 0


def test_counts_new_changed_and_identical_rows(store: Store) -> None:
    first = store.upsert("contacts", contacts(("c1", "waiting"), ("c2", "answered")))
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    second = store.upsert("contacts", contacts(("c1", "answered"), ("c2", "answered"),
                                               ("c3", "abandoned")))
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    assert dict(store.connection.execute(
        "SELECT contact_id, outcome FROM contacts").fetchall()) == {
        "c1": "answered", "c2": "answered", "c3": "abandoned"}


def test_batches_of_one_load_append_and_a_repeated_key_replaces(store: Store) -> None:
    log = AppendLog()
    a = store.upsert("contacts", contacts(("c1", "waiting"), ("c2", "answered")), log)
    b = store.upsert("contacts", contacts(("c3", "answered")), log)
    # c1 again (an adapter that rewrites an open row): merged, not appended twice.
    c = store.upsert("contacts", contacts(("c1", "answered"), ("c4", "answered")), log)
    assert (a.inserted, b.inserted) == (2, 1)
    assert (c.inserted, c.updated, c.unchanged) == (1, 1, 0)
    assert store.count("contacts") == 4
    assert store.connection.execute(
        "SELECT outcome FROM contacts WHERE contact_id = 'c1'").fetchall() == [("answered",)]


def test_a_load_on_a_store_that_holds_the_scope_merges(store: Store) -> None:
    store.upsert("contacts", contacts(("c1", "waiting")))
    counts = store.upsert("contacts", contacts(("c1", "answered"), ("c2", "answered")),
                          AppendLog())
    assert (counts.inserted, counts.updated) == (1, 1)
    assert store.count("contacts") == 2
