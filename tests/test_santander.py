"""The real-format loader: cleaning quirks, event derivation, and loads into PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import asyncpg
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.data.santander import HEADER, MalformedRow, SantanderCleaner, read_chunks
from core.data.santander_load import MalformedRowError, load_santander_file

QUOTED_HEADER = ",".join(f'"{h}"' for h in HEADER)
# A real row of the sample (padded numbers, '1.0', quoted province), products all 0 but cco.
BASE = ('2015-01-28,{id},N,ES,H, 35,2015-01-12, 0,      6, 1,,1.0,A,S,N,,KHL,N, 1,29,'
        '"MALAGA", 1,87218.1,02 - PARTICULARES,' + ",".join(["0", "0", "1"] + ["0"] * 18)
        + ", 0, 0,0")
# The all-empty rows the real file has for some clients (only id, month and flags).
EMPTY = ('2015-01-28,{id},,,, NA,,NA,     NA,NA,,,,,,,,,NA,NA,"",NA,,,'
         + ",".join(["0", "0", "1"] + ["0"] * 18) + ", 0, 0,0")


def _row(id_: int, month: str = "2015-01-28", **fields: str) -> str:
    values = next(csv.reader([BASE.format(id=id_)]))
    values[0] = month
    for k, v in fields.items():
        values[HEADER.index(k)] = v
    out = []
    for h, v in zip(HEADER, values, strict=True):
        out.append(f'"{v}"' if h == "nomprov" else v)
    return ",".join(out)


def _write(tmp_path: Path, lines: list[str], name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([QUOTED_HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _clean(path: Path, chunk_rows: int = 1000):  # type: ignore[no-untyped-def]
    cleaner = SantanderCleaner()
    bundles, bad = [], []
    for chunk in read_chunks(path, chunk_rows=chunk_rows):
        b, m = cleaner.clean(chunk)
        bundles.append(b)
        bad += m
    clients = pd.concat([b.clients for b in bundles], ignore_index=True)
    holdings = pd.concat([b.holdings for b in bundles], ignore_index=True)
    events = pd.concat([b.product_events for b in bundles], ignore_index=True)
    return clients.set_index("id"), holdings, events, bad


def test_cleaning_real_quirks(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        BASE.format(id=1),
        _row(2, indrel_1mes="1", renta="", age=" NA", segmento="03 - UNIVERSITARIO"),
        _row(3, antiguedad="-999999", indrel_1mes="P", nomprov="CORUÑA, A", age="150"),
        EMPTY.format(id=4),
        "2015-01-28,5,N,ES,H",  # wrong number of fields
    ])
    c, holdings, _, bad = _clean(path)
    assert bad == [MalformedRow(6, "expected 48 fields, got 5")]
    assert list(c.index) == [1, 2, 3, 4]
    one = c.loc[1]
    assert (one.age, one.seniority_months, one.customer_type, one.sex) == (35, 6, "1", "H")
    assert one.province_name == "MALAGA" and one.province_code == 29
    assert one.income == 87218.1 and one.segment == "individual" and one.is_active
    assert one.first_contract_date == pd.Timestamp("2015-01-12")
    assert pd.isna(one.last_primary_date) and one.spouse_of_employee is None
    assert one.imputed_fields == [] and one.snapshot_month == pd.Timestamp("2015-01-28")
    two = c.loc[2]
    assert two.customer_type == "1" and two.segment == "student"
    # only one student in the chunk has an age/income: no student median -> overall median
    assert two.age == 35 and two.income == pytest.approx(87218.1)
    assert set(two.imputed_fields) == {"age", "income"}
    three = c.loc[3]
    assert pd.isna(three.seniority_months) and three.customer_type == "P"
    assert three.province_name == "CORUÑA, A" and three.age == 110
    assert set(three.imputed_fields) == {"seniority_months", "age"}
    four = c.loc[4]
    assert four.segment == "individual" and four.age == 35 and four.income == 87218.1
    assert (four.is_resident, four.is_active, four.is_new) == (True, False, False)
    assert pd.isna(four.province_code) and pd.isna(four.province_name) and pd.isna(four.sex)
    assert set(four.imputed_fields) == {
        "seniority_months", "is_new", "is_resident", "is_foreigner", "is_deceased",
        "is_active", "segment", "age", "income",
    }
    assert sorted(holdings.client_id) == [1, 2, 3, 4]
    assert set(holdings.product_code) == {"cco_fin"}


def test_malformed_values_and_na_flags(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        _row(1, ind_nomina_ult1="NA", ind_nom_pens_ult1="", ind_recibo_ult1="1"),
        _row(0), _row(2, ncodpers="x1"), _row(3, fecha_dato="2015-13-28"),
        _row(4, ind_cco_fin_ult1="2"),
    ])
    c, holdings, _, bad = _clean(path)
    assert list(c.index) == [1]
    assert sorted(holdings.product_code) == ["cco_fin", "recibo"]
    assert [(m.line, m.reason.split(":")[0]) for m in bad] == [
        (3, "ncodpers is not a positive integer"), (4, "ncodpers is not a positive integer"),
        (5, "fecha_dato is not a date"), (6, "ind_cco_fin_ult1 is not 0/1/NA"),
    ]


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_events_across_months_and_chunks(tmp_path: Path, chunk_rows: int) -> None:
    path = _write(tmp_path, [
        _row(1), _row(2), _row(3),
        _row(1, "2015-02-28", ind_cco_fin_ult1="0", ind_tjcr_fin_ult1="1"),
        _row(2, "2015-02-28"),
        _row(4, "2015-02-28", ind_tjcr_fin_ult1="1"),  # new client: no events
        _row(3, "2015-04-28", ind_cco_fin_ult1="0"),  # gap: no events
    ])
    c, holdings, events, _ = _clean(path, chunk_rows)
    got = sorted(map(tuple, events[["client_id", "product_code", "kind"]].to_numpy().tolist()))
    assert got == [(1, "cco_fin", "drop"), (1, "tjcr_fin", "add")]
    assert set(pd.to_datetime(events.month)) == {pd.Timestamp("2015-02-28")}
    assert len(holdings) == 7
    assert c.groupby(level=0).snapshot_month.max()[3] == pd.Timestamp("2015-04-28")


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("client", "holding", "product_event", "dataset")}
    finally:
        await conn.close()


def _kept_flag_sum(path: Path) -> int:
    from core.catalog import load_catalog

    cols = [f"ind_{c}_ult1" for c in load_catalog().bank_codes]
    df = pd.read_csv(path, usecols=cols, dtype=str, keep_default_na=False)
    return int(sum((df[c].str.strip() == "1").sum() for c in cols))


async def test_load_real_sample_twice(db_url: str, santander_sample: Path) -> None:
    report = await load_santander_file(santander_sample, url=db_url, chunk_rows=3000)
    assert report.rows_read == 9999 and report.malformed == []
    assert report.months == [date(2015, 1, 28)]
    first = await _counts(db_url)
    assert first["client"] == 9999
    assert first["holding"] == _kept_flag_sum(santander_sample) == report.counts["holding"]
    assert first["product_event"] == 0
    again = await load_santander_file(santander_sample, url=db_url)
    assert await _counts(db_url) == first
    assert again.dataset_id == report.dataset_id and again.counts["holding"] == 0
    assert "9,999 rows read" in again.summary()
    conn = await asyncpg.connect(db_url)
    try:
        bad = await conn.fetchval(
            "SELECT count(*) FROM client WHERE age IS NULL OR income IS NULL OR income < 0")
        assert bad == 0
        row = await conn.fetchrow("SELECT * FROM client WHERE id = 1375586")  # first data row
        assert (row["age"], row["sex"], row["customer_type"], row["seniority_months"]) == (
            35, "H", "1", 6)
        assert (row["province_name"], row["segment"], str(row["income"])) == (
            "MALAGA", "individual", "87218.10")
        assert row["snapshot_month"] == date(2015, 1, 28) and row["imputed_fields"] == []
    finally:
        await conn.close()


def _bad_copy(tmp_path: Path, sample: Path) -> Path:
    """Five sample rows with ids moved out of the sample's range, then a short row."""
    lines = sample.read_text(encoding="utf-8").splitlines()[1:6]
    moved = [_shift(ln) for ln in lines]
    return _write(tmp_path, [*moved[:3], "2015-01-28,77,N", *moved[3:]], "bad.csv")


def _shift(line: str) -> str:
    values = line.split(",", 2)
    return ",".join([values[0], str(int(values[1]) + 5_000_000), values[2]])


async def test_strict_rolls_back(db_url: str, santander_sample: Path, tmp_path: Path) -> None:
    path = _bad_copy(tmp_path, santander_sample)
    before = await _counts(db_url)
    with pytest.raises(MalformedRowError) as info:
        await load_santander_file(path, url=db_url, strict=True)
    assert info.value.line == 5 and "fields" in info.value.reason
    assert await _counts(db_url) == before


async def test_non_strict_skips(db_url: str, santander_sample: Path, tmp_path: Path) -> None:
    path = _bad_copy(tmp_path, santander_sample)
    before = await _counts(db_url)
    report = await load_santander_file(path, url=db_url)
    assert [m.line for m in report.malformed] == [5]
    after = await _counts(db_url)
    assert after["client"] == before["client"] + 5 and after["dataset"] == before["dataset"] + 1


def test_cli_load_with_limit(db_url: str, santander_sample: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    from cli.main import app
    from core.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["data", "load-santander", str(santander_sample),
                                          "--limit", "100", "--chunk-rows", "1000"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "100 rows read" in text and "client=100" in text


def test_cli_missing_path(tmp_path: Path) -> None:
    from cli.main import app

    result = CliRunner().invoke(app, ["data", "load-santander", str(tmp_path / "nope.csv")])
    assert result.exit_code != 0
    text = "".join(result.output.split())
    assert "PATH" in text and "nope.csv" in text
