"""Writing a simulated population as a Santander `train_ver2.csv` (holdings and questionnaire only).

Why: a bank adopting the product starts with exactly this file (no operations, no offer
log), and the real one (950,000 clients x 17 months) is not ours to ship. The simulator's
population in the same format, with the same quirks, lets the whole chain (load, train,
evaluate, recommend) run at the real size and be checked against what the simulator knows.

Quirks copied from the real sample (../shared/data/santander): numbers padded with spaces
(age to 3, ind_nuevo/indrel/tipodom/ind_actividad_cliente/nomina/nom_pens to 2, antiguedad
to 7, cod_prov to 2), `indrel_1mes` as `1` or `1.0`, empty `ult_fec_cli_1t` except for
former primary clients (indrel 99), empty `renta` where the simulator's income is unknown,
some incomes printed with float noise (`122179.11000000002`), `nomprov` always quoted,
rows whose questionnaire is entirely missing (`NA`, empty; about 0.2% of client-months as in
the full file), and `antiguedad` -999999 on a few rows. The six products the catalog does
not sell are written as 0. A client's seniority counts back from the last month and stops
at 0. A newcomer (the simulator's clients joining during the horizon, as in the real file's
growth from 625k to 931k clients) has rows from its join month on.

Why streaming through per-month part files: the real file is ordered by month, but the
simulator produces clients in independent blocks with all their months; each block appends
its rows to one file per month and the parts are concatenated at the end, so memory holds
one block whatever N (and two worker processes simulate blocks in parallel).
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.data.bundle import Bundle
from core.data.santander import ALL_PRODUCTS, HEADER
from core.data.simulator import month_dates, simulate
from core.data.simulator.calibration import load_calibration

FIRST_NCODPERS = 15_889  # the real file's smallest ncodpers
MISSING_ROW_RATE = 0.002  # client-months with the whole questionnaire missing (27,734 / 13.6M)
SENIORITY_BUG_RATE = 0.0005  # rows with antiguedad -999999
FLOAT_NOISE_RATE = 0.12  # incomes printed with float noise (about 1 in 8 in the sample)
INDREL_1MES_DOT_RATE = 0.57  # `1.0` rather than `1` (5,718 of 9,949 in the sample)
SEGMENT_CODES = {"top": "01 - TOP", "individual": "02 - PARTICULARES", "student": "03 - UNIVERSITARIO"}
PAIR = ("nomina", "nom_pens")  # the two flags the real file pads (" 0") and sometimes leaves NA


@dataclass
class ExportReport:
    """What was written, and the simulator's own ownership rates to check a reload against."""

    path: str
    clients: int
    months: list[str]
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    # month (ISO) -> product code -> share of clients holding it, from the simulator's holdings
    ownership: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"wrote {self.path}: {self.rows:,} rows ({self.clients:,} clients x {len(self.months)} months, "
            f"{self.bytes / 1e6:,.1f} MB) in {self.seconds:.1f}s "
            f"({self.rows / max(self.seconds, 1e-9):,.0f} rows/s)"
        )


@dataclass
class _BlockResult:
    """One block's formatted rows per month and its holding counts per (month, product)."""

    texts: list[str]
    counts: dict[tuple[str, str], int]
    rows: int
    present: list[int]  # clients in the file per month (newcomers appear from their join month)


def _pad(values: np.ndarray, width: int) -> list[str]:
    return [str(v).rjust(width) for v in values.tolist()]


def _income_text(rng: np.random.Generator, income: np.ndarray, missing: np.ndarray) -> list[str]:
    noisy = rng.random(len(income)) < FLOAT_NOISE_RATE
    shown = np.where(noisy, np.nextafter(income, np.inf), income)
    return ["" if m else repr(float(x)) for x, m in zip(shown.tolist(), missing.tolist(), strict=True)]


def _static_parts(rng: np.random.Generator, clients: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Per client, the text before ind_nuevo and after antiguedad up to the products."""
    c = clients
    ids = (c["id"].to_numpy(np.int64)).tolist()
    alta = pd.to_datetime(c["first_contract_date"]).dt.strftime("%Y-%m-%d").tolist()
    age = _pad(c["age"].to_numpy(np.int64), 3)
    sex = c["sex"].astype(str).tolist()
    head = [f",{i},N,ES,{s},{a},{d}," for i, s, a, d in zip(ids, sex, age, alta, strict=True)]
    primary = c["primary_status"].to_numpy(np.int64)
    indrel = _pad(primary, 2)
    dot = rng.random(len(c)) < INDREL_1MES_DOT_RATE
    missing_income = np.array(["income" in f for f in c["imputed_fields"]], dtype=bool)
    renta = _income_text(rng, c["income"].to_numpy(float), missing_income)
    rel = c["relation_type"].astype(str).tolist()
    ext = np.where(c["is_foreigner"].to_numpy(bool), "S", "N").tolist()
    canal = c["join_channel"].astype(str).tolist()
    prov = _pad(c["province_code"].to_numpy(np.int64), 2)
    name = c["province_name"].astype(str).tolist()
    act = np.where(c["is_active"].to_numpy(bool), " 1", " 0").tolist()
    seg = [SEGMENT_CODES[s] for s in c["segment"].astype(str).tolist()]
    one = np.where(dot, "1.0", "1").tolist()
    tail = [
        f",{indrel[k]},{{ult}},{one[k]},{rel[k]},S,{ext[k]},,{canal[k]},N, 1,{prov[k]},\"{name[k]}\","
        f"{act[k]},{renta[k]},{seg[k]},"
        for k in range(len(c))
    ]
    return head, tail


def _flag_text(mask: int, blank_pair: bool) -> str:
    """The 24 product flags of one row from a bitmask over ALL_PRODUCTS."""
    out = []
    for k, code in enumerate(ALL_PRODUCTS):
        held = mask >> k & 1
        if code in PAIR:
            out.append("NA" if blank_pair and not held else f" {held}")
        else:
            out.append(str(held))
    return ",".join(out)


def format_block(bundle: Bundle, months: np.ndarray, seed: int, block: int) -> _BlockResult:
    """This block's rows, one text per month (month order), and its holding counts."""
    rng = np.random.default_rng([seed, block, 18])  # quirks: independent of the simulation draws
    clients = bundle.clients.reset_index(drop=True)
    n = len(clients)
    row_of = pd.Series(np.arange(n), index=clients["id"].to_numpy(np.int64))
    head, tail = _static_parts(rng, clients)
    seniority_last = clients["seniority_months"].to_numpy(np.int64)
    primary = clients["primary_status"].to_numpy(np.int64)
    col = {code: k for k, code in enumerate(ALL_PRODUCTS)}
    h = bundle.holdings
    h_month = pd.to_datetime(h["month"]).to_numpy("datetime64[D]")
    h_row = row_of.loc[h["client_id"].to_numpy(np.int64)].to_numpy()
    cats = h["product_code"].astype("category")
    cat_bit = np.array([col[str(p)] for p in cats.cat.categories], dtype=np.int64)
    h_bit = cat_bit[cats.cat.codes.to_numpy()]
    counts = (
        pd.DataFrame({"month": np.datetime_as_string(h_month), "product": cats.astype(str)})
        .value_counts()
        .to_dict()
    )
    plain = [t.replace("{ult}", "", 1) for t in tail]
    former = (primary == 99).tolist()
    ident = clients["id"].astype(str).tolist()
    joined = pd.to_datetime(clients["first_contract_date"]).to_numpy().astype("datetime64[M]")
    present: list[int] = []
    texts: list[str] = []
    flag_cache: dict[tuple[int, bool], str] = {}
    rows = 0
    for t, month in enumerate(months):
        sel = h_month == month
        mask = np.zeros(n, dtype=np.int64)
        np.bitwise_or.at(mask, h_row[sel], np.int64(1) << h_bit[sel])
        seniority = np.maximum(seniority_last - (len(months) - 1 - t), 0)
        bug = rng.random(n) < SENIORITY_BUG_RATE
        blank = rng.random(n) < MISSING_ROW_RATE
        antig = np.where(bug, "-999999", np.char.rjust(seniority.astype(str), 7)).tolist()
        nuevo = np.where((seniority < 6) | bug, " 1", " 0").tolist()
        date = str(month)
        ult = f"{date[:8]}{int(rng.integers(1, 28)):02d}"
        lines = []
        here = (joined <= np.datetime64(month, "M")).tolist()
        for k, (m, b) in enumerate(zip(mask.tolist(), blank.tolist(), strict=True)):
            if not here[k]:  # not a client yet
                continue
            flags = flag_cache.get((m, b))
            if flags is None:
                flags = flag_cache[(m, b)] = _flag_text(m, b)
            if b:
                lines.append(f"{date},{ident[k]},,,, NA,,NA,     NA,NA,,,,,,,,,NA,NA,\"\",NA,,,{flags}\n")
                continue
            tl = tail[k].replace("{ult}", ult, 1) if former[k] else plain[k]
            lines.append(f"{date}{head[k]}{nuevo[k]},{antig[k]}{tl}{flags}\n")
        texts.append("".join(lines))
        rows += len(lines)
        present.append(len(lines))
    return _BlockResult(texts, {(str(k[0]), str(k[1])): int(v) for k, v in counts.items()}, rows, present)


def _block(args: tuple[int, int, int, int, int, int, dict[str, Any]]) -> _BlockResult:
    """Worker: simulate one block of clients (holdings only) and format it."""
    k, n_clients, n_months, seed, first_id, chunk_size, cal = args
    (bundle,) = simulate(
        n_clients, n_months, seed, first_id, cal, chunk_size, holdings_only=True, only_chunks=[k]
    )
    return format_block(bundle, month_dates(n_months), seed, k)


def export_santander(
    path: Path | str,
    n_clients: int,
    n_months: int,
    seed: int,
    *,
    chunk_size: int = 10_000,
    workers: int = 2,
    first_id: int = FIRST_NCODPERS,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Simulate and write `n_clients` x `n_months` rows in train_ver2.csv format to `path`."""
    path = Path(path)
    started = time.perf_counter()
    months = month_dates(n_months)
    report = ExportReport(str(path), n_clients, [str(m) for m in months])
    parts_dir = path.parent / f".{path.name}.parts"
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    cal = load_calibration()
    n_blocks = -(-n_clients // chunk_size)
    jobs = [(k, n_clients, n_months, seed, first_id, chunk_size, cal) for k in range(n_blocks)]
    totals: dict[tuple[str, str], int] = {}
    present = np.zeros(n_months, dtype=np.int64)
    parts = [open(parts_dir / f"{t:02d}.csv", "w", encoding="utf-8", newline="") for t in range(n_months)]  # noqa: SIM115
    try:
        done = 0
        for result in _results(jobs, workers):
            for fh, text in zip(parts, result.texts, strict=True):
                fh.write(text)
            for key, v in result.counts.items():
                totals[key] = totals.get(key, 0) + v
            report.rows += result.rows
            present += np.asarray(result.present, dtype=np.int64)
            done = min(done + chunk_size, n_clients)
            if progress:
                progress(done, n_clients)
    finally:
        for fh in parts:
            fh.close()
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(HEADER)
        for t in range(n_months):
            with open(parts_dir / f"{t:02d}.csv", encoding="utf-8") as part:
                shutil.copyfileobj(part, out, 16 << 20)
    os.replace(tmp, path)
    shutil.rmtree(parts_dir, ignore_errors=True)
    report.bytes = path.stat().st_size
    report.ownership = {
        m: {code: totals.get((m, code), 0) / max(int(present[t]), 1) for code in cal["products"]}
        for t, m in enumerate(report.months)
    }
    report.seconds = time.perf_counter() - started
    return report


def _results(jobs: list[tuple[int, int, int, int, int, int, dict[str, Any]]], workers: int):  # type: ignore[no-untyped-def]
    """Block results in block order, at most 2 x workers in flight (bounded memory)."""
    if workers <= 1:
        for job in jobs:
            yield _block(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: list[Future[_BlockResult]] = []
        it = iter(jobs)
        for job in it:
            pending.append(pool.submit(_block, job))
            if len(pending) >= 2 * workers:
                break
        while pending:
            result = pending.pop(0).result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(_block, nxt))
            yield result
