"""The simulator's train_ver2.csv export, read back by the real loader."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import asyncpg
import pandas as pd
import pytest

from core.data.santander import HEADER, SantanderCleaner, read_chunks
from core.data.santander_export import export_santander
from core.data.santander_load import MalformedRowError, load_santander_file
from core.data.simulator import simulate
from tests.conftest import migrated_database


def test_export_format_and_quirks(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    report = export_santander(path, 3000, 4, seed=5, chunk_size=1000, workers=1)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(f'"{h}"' for h in HEADER)  # quoted header, as in the real file
    rows = list(csv.reader(lines[1:]))
    # newcomers appear from their join month on, as in the real file's growth
    assert 0.95 * 3000 * 4 < len(rows) == report.rows < 3000 * 4 and all(len(r) == 48 for r in rows)
    dates = [r[0] for r in rows]
    assert dates == sorted(dates) and sorted(set(dates)) == report.months  # ordered by month
    per_month = [dates.count(m) for m in report.months]
    assert per_month == sorted(per_month) and per_month[-1] == 3000  # the base only grows
    col = {h: i for i, h in enumerate(HEADER)}
    full = [r for r in rows if r[col["sexo"]]]
    assert all(len(r[col["age"]]) >= 3 and len(r[col["antiguedad"]]) == 7 for r in full)
    assert {r[col["indrel_1mes"]] for r in full} == {"1", "1.0"}
    assert any(r[col["renta"]] == "" for r in full)  # unknown incomes stay empty
    blank = [r for r in rows if not r[col["sexo"]]]  # rows with the whole questionnaire missing
    assert blank and all(r[col["age"]] == " NA" for r in blank)
    assert {r[col["ind_ahor_fin_ult1"]] for r in rows} == {"0"}  # products nobody sells here


def test_export_streams_the_simulated_population(tmp_path: Path) -> None:
    """Two workers and one give the same file; the holdings are the simulator's own."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    export_santander(a, 2500, 3, seed=9, chunk_size=1000, workers=1)
    report = export_santander(b, 2500, 3, seed=9, chunk_size=1000, workers=2)
    assert a.read_bytes() == b.read_bytes()
    sim = pd.concat([x.holdings for x in simulate(2500, 3, 9, 15_889, chunk_size=1000)])
    last = sim[sim["month"] == sim["month"].max()]
    rates = last["product_code"].astype(str).value_counts() / 2500
    for code, rate in rates.items():
        assert report.ownership[report.months[-1]][str(code)] == pytest.approx(rate)


async def test_reload_gives_the_simulated_ownership(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    report = export_santander(path, 2000, 5, seed=3, chunk_size=1000, workers=1)
    loaded = await load_santander_file(path, url=db_url, chunk_rows=3000)
    # newcomers have rows from their join month on: fewer rows than clients x months
    assert loaded.malformed == [] and loaded.rows_read == report.rows < 2000 * 5
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT month, product_code, count(*) AS n FROM holding "
            "WHERE client_id BETWEEN 15889 AND 15889 + 1999 GROUP BY 1, 2"
        )
        n_clients = await conn.fetchval(
            "SELECT count(*) FROM client WHERE dataset_id = $1", loaded.dataset_id
        )
    finally:
        await conn.close()
    last = report.months[-1]  # every client has joined by the last month
    got = {r["product_code"]: r["n"] / 2000 for r in rows if str(r["month"]) == last}
    want = {c: v for c, v in report.ownership[last].items() if v > 0}
    assert got == pytest.approx(want)
    assert n_clients == 2000
    again = await load_santander_file(path, url=db_url, chunk_rows=3000)
    assert again.counts["holding"] == 0 and again.counts["product_event"] == 0  # nothing added


@pytest.fixture
def own_db_url(pg_admin_url: str) -> str:
    """A database of its own: the module's other tests load clients with the same ids."""
    return migrated_database(pg_admin_url, "santander_partial_reload")


async def test_a_load_over_part_of_the_same_data_adds_only_the_rest(own_db_url: str, tmp_path: Path) -> None:
    """A first load COPYs straight in; a later file that repeats part of it (and a repeated
    line) merges: every (client, month, product) once, nothing lost."""
    db_url = own_db_url
    path = tmp_path / "train.csv"
    report = export_santander(path, 700, 4, seed=5, chunk_size=700, workers=1)
    lines = path.read_text().splitlines(keepends=True)
    part = tmp_path / "part.csv"
    part.write_text("".join(lines[: len(lines) // 2]))
    again = tmp_path / "again.csv"
    again.write_text("".join([*lines, lines[5]]))  # the whole file, and one line twice
    first = await load_santander_file(part, url=db_url, chunk_rows=500)
    rest = await load_santander_file(again, url=db_url, chunk_rows=500)
    conn = await asyncpg.connect(db_url)
    try:
        ids = [int(r["client_id"]) for r in await conn.fetch("SELECT DISTINCT client_id FROM holding")]
        total = await conn.fetchval("SELECT count(*) FROM holding")
        distinct = await conn.fetchval("SELECT count(*) FROM (SELECT DISTINCT * FROM holding) h")
        last = await conn.fetch(
            "SELECT product_code, count(*) AS n FROM holding WHERE month = $1::date GROUP BY 1",
            date.fromisoformat(report.months[-1]),
        )
    finally:
        await conn.close()
    assert ids and first.counts["holding"] > 0 and rest.counts["holding"] > 0
    assert total == distinct == first.counts["holding"] + rest.counts["holding"]
    got = {r["product_code"]: r["n"] / 700 for r in last}
    assert got == pytest.approx({c: v for c, v in report.ownership[report.months[-1]].items() if v > 0})


async def test_malformed_row_deep_in_an_export(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    export_santander(path, 1500, 3, seed=4, chunk_size=1000, workers=1)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3100, "2015-03-28,99,N,ES")  # becomes line 3101
    bad = lines[4000].split(",")
    bad[1] = "x12"  # line 4001: ncodpers is not a number
    lines[4000] = ",".join(bad)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cleaner = SantanderCleaner()
    found = []
    for chunk in read_chunks(path, chunk_rows=700):
        found += cleaner.clean(chunk)[1]
    assert [(m.line, m.reason.split()[0]) for m in found] == [(3101, "expected"), (4001, "ncodpers")]
    conn = await asyncpg.connect(db_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM holding")
        with pytest.raises(MalformedRowError) as info:
            await load_santander_file(path, url=db_url, strict=True, chunk_rows=1000)
        assert info.value.line == 3101
        assert await conn.fetchval("SELECT count(*) FROM holding") == before  # nothing loaded
    finally:
        await conn.close()


def test_holdings_only_simulation_draws_the_same_population() -> None:
    """The export's fast path skips operations, offers and truth but not a random draw."""
    full = list(simulate(1200, 5, 8, chunk_size=600))
    lean = list(simulate(1200, 5, 8, chunk_size=600, holdings_only=True))
    only = list(simulate(1200, 5, 8, chunk_size=600, holdings_only=True, only_chunks=[1]))
    for a, b in zip(full, lean, strict=True):
        assert a.holdings.equals(b.holdings) and a.product_events.equals(b.product_events)
        assert a.clients.equals(b.clients) and b.operations.empty and b.offers.empty
    assert len(only) == 1 and only[0].holdings.equals(lean[1].holdings)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> str:
    return migrated_database(pg_admin_url, "santander_first_load")


async def test_a_first_load_checks_foreign_keys_once_at_the_end(empty_db_url: str, tmp_path: Path) -> None:
    """Into empty tables the loader drops the foreign keys and adds them back, validated: the
    schema is the same afterwards, and a row referencing no client fails the whole block."""
    from core.data.bulk_load import foreign_keys_checked_at_end

    keys = (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text IN ('holding', 'product_event') ORDER BY 1, 2"
    )
    conn = await asyncpg.connect(empty_db_url)
    try:
        before = [tuple(r) for r in await conn.fetch(keys)]
        tables = ("holding", "product_event")
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            async with conn.transaction(), foreign_keys_checked_at_end(conn, tables) as applied:
                assert applied == ["holding", "product_event"]
                assert not await conn.fetch(keys)  # dropped while the block runs
                await conn.execute("INSERT INTO holding VALUES (424242, '2016-05-28', 'cco_fin')")
        assert [tuple(r) for r in await conn.fetch(keys)] == before and len(before) == 4
    finally:
        await conn.close()
    path = tmp_path / "train.csv"
    export_santander(path, 300, 3, seed=9, chunk_size=300, workers=1)
    loaded = await load_santander_file(path, url=empty_db_url, chunk_rows=400)
    conn = await asyncpg.connect(empty_db_url)
    try:
        assert [tuple(r) for r in await conn.fetch(keys)] == before
        assert await conn.fetchval("SELECT count(*) FROM holding") == loaded.counts["holding"] > 0
        # A second load finds the tables full: the keys stay (nothing to drop), nothing added.
        async with conn.transaction(), foreign_keys_checked_at_end(conn, tables) as applied:
            assert applied == []
    finally:
        await conn.close()
