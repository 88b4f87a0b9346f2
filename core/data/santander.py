"""Reading and cleaning the real Santander `train_ver2.csv` format (pure: no database).

Why this shape: the full file is 13.6M rows / 2.1 GB, so it is read in chunks of rows with
the csv module (exact 1-based line numbers for malformed rows, which pandas' C reader cannot
give) and each chunk is cleaned with vectorised pandas/numpy into a `Bundle`. Add/drop events
need the previous month of each client, which may sit in an earlier chunk: `SantanderCleaner`
keeps, per ncodpers, the last month index and a bitmask of the kept products in numpy arrays
(~1.6M ids -> a few MB), so memory stays bounded whatever the file size.

Imputation (every client is kept; each filled or invalid field is named in `imputed_fields`):
- age missing/non-numeric -> median age of the client's segment (else overall), computed on
  the current chunk, falling back to the previous chunks' medians, then AGE_DEFAULT; ages
  outside AGE_RANGE are clipped into it and marked.
- income (renta) missing/negative -> median by province+segment of the current chunk, else by
  segment, else overall, each falling back to earlier chunks, then INCOME_DEFAULT.
- segment missing -> 'individual' (by far the most common segment).
- booleans missing -> the model defaults (is_new/is_foreigner/is_deceased/is_active False,
  is_resident True). spouse_of_employee stays NULL (missing in >99.9% of rows; not marked).
- antiguedad -999999/negative/missing -> NULL; invalid dates and codes too long for their
  column -> NULL. Other missing codes (sex, channel...) stay NULL without a mark.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.catalog import load_catalog
from core.data.bundle import CLIENT_COLUMNS, Bundle

ALL_PRODUCTS = [
    "ahor_fin", "aval_fin", "cco_fin", "cder_fin", "cno_fin", "ctju_fin", "ctma_fin",
    "ctop_fin", "ctpp_fin", "deco_fin", "deme_fin", "dela_fin", "ecue_fin", "fond_fin",
    "hip_fin", "plan_fin", "pres_fin", "reca_fin", "tjcr_fin", "valo_fin", "viv_fin", "nomina",
    "nom_pens", "recibo"
]
HEADER = [
    "fecha_dato", "ncodpers", "ind_empleado", "pais_residencia", "sexo", "age", "fecha_alta",
    "ind_nuevo", "antiguedad", "indrel", "ult_fec_cli_1t", "indrel_1mes", "tiprel_1mes",
    "indresi", "indext", "conyuemp", "canal_entrada", "indfall", "tipodom", "cod_prov",
    "nomprov", "ind_actividad_cliente", "renta", "segmento"
] + [f"ind_{p}_ult1" for p in ALL_PRODUCTS]
N_FIELDS = len(HEADER)  # 48
AGE_RANGE = (0, 110)
AGE_DEFAULT = 40
INCOME_DEFAULT = 100_000.0
MAX_NCODPERS = 50_000_000  # real ids stay below 1.6M; this bounds the state arrays
SEGMENTS = {"01 - TOP": "top", "02 - PARTICULARES": "individual", "03 - UNIVERSITARIO": "student"}
TEXT_LIMITS = {"employee_status": 1, "country": 2, "sex": 1, "customer_type": 2,
               "relation_type": 1, "join_channel": 3, "province_name": 100}
# field -> (source column, true value, default when missing)
BOOLS = {"is_new": ("ind_nuevo", "1", False), "is_resident": ("indresi", "S", True),
         "is_foreigner": ("indext", "S", False), "is_deceased": ("indfall", "S", False),
         "is_active": ("ind_actividad_cliente", "1", False)}


@dataclass(frozen=True)
class MalformedRow:
    """A data row that cannot be trusted at all; `line` is 1-based (the header is line 1)."""

    line: int
    reason: str


@dataclass
class RawChunk:
    """Rows of one chunk as strings, with their file line numbers and the bytes read so far."""

    frame: pd.DataFrame  # HEADER columns, str, unstripped
    lines: np.ndarray  # 1-based file line of each row of `frame`
    bytes_read: int
    malformed: list[MalformedRow] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Data rows this chunk covers, well-shaped or not."""
        return len(self.frame) + len(self.malformed)


def _valid_lines(start: int, k: int, pending: list[tuple[int, int]]) -> np.ndarray:
    """File lines of the next `k` well-shaped rows from line `start`, skipping the lines of
    the malformed rows in `pending` ((line, lines spanned), ascending) that fall among them;
    those are removed from `pending`, later ones stay."""
    lines = np.arange(start, start + k, dtype=np.int64)
    while pending and k and pending[0][0] <= lines[-1]:
        num, span = pending.pop(0)
        lines[lines >= num] += span
    return lines


def read_chunks(path: Path | str, chunk_rows: int = 200_000, limit: int | None = None,
                ) -> Iterator[RawChunk]:
    """Yield chunks of well-shaped rows; rows with a wrong field count go to `malformed`.

    Why pyarrow's streaming reader: the csv module plus building a frame from Python lists
    cost about 60 s per million rows, which is most of a full-file load; pyarrow parses in C
    and reports each bad row with its physical line. Lines of good rows are counted (one row
    per line, as in this format), shifted past the bad rows' lines.
    """
    with open(path, "rb") as fh:
        first = fh.readline().decode("utf-8", errors="replace")
    header = next(csv.reader([first]), None)
    if header is None or [h.strip() for h in header] != HEADER:
        raise ValueError(f"{path}: not a train_ver2.csv file (unexpected header)")
    bad: list[MalformedRow] = []
    pending: list[tuple[int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        line = int(row.number) if row.number is not None else -1
        bad.append(MalformedRow(line, f"expected {N_FIELDS} fields, got {row.actual_columns}"))
        pending.append((line, 1 + (row.text or "").count("\n")))
        return "skip"

    source = pa.OSFile(str(path))
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(use_threads=False, block_size=8 << 20),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={h: pa.string() for h in HEADER}, strings_can_be_null=False,
            quoted_strings_can_be_null=False, null_values=[]),
    )
    next_line, done = 2, 0
    frames: list[pd.DataFrame] = []
    lines: list[np.ndarray] = []
    malformed: list[MalformedRow] = []
    held = 0
    try:
        for batch in reader:
            frame = batch.to_pandas()
            frame.columns = HEADER
            rows = _valid_lines(next_line, len(frame), pending)
            if len(rows):
                next_line = int(rows[-1]) + 1
            for m in bad:  # bad rows met before or among this batch's rows
                next_line = max(next_line, m.line + 1)
            malformed += bad
            bad.clear()
            if limit is not None:
                room = limit - done
                malformed = [m for m in malformed if m.line < (rows[room] if room < len(rows) else 1 << 62)]
                frame, rows = frame.iloc[:max(room, 0)], rows[:max(room, 0)]
            frames.append(frame)
            lines.append(rows)
            held += len(frame)
            done += len(frame)
            while held + len(malformed) >= chunk_rows:
                yield _take(frames, lines, malformed, chunk_rows, source.tell())
                held = sum(len(f) for f in frames)
                malformed = []
            if limit is not None and done >= limit:
                bad.clear()
                break
        malformed += bad
        if held or malformed:
            yield _take(frames, lines, malformed, held + len(malformed), source.tell())
    finally:
        source.close()


def _take(frames: list[pd.DataFrame], lines: list[np.ndarray], malformed: list[MalformedRow],
          n: int, bytes_read: int) -> RawChunk:
    """Pop up to `n` rows off the front of the buffered batches into one chunk."""
    frame = pd.concat(frames, ignore_index=True) if len(frames) != 1 else frames[0]
    rows = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
    k = max(n - len(malformed), 0)
    head, tail = frame.iloc[:k].reset_index(drop=True), frame.iloc[k:].reset_index(drop=True)
    frames.clear()
    lines.clear()
    if len(tail):
        frames.append(tail)
        lines.append(rows[k:])
    return RawChunk(head, rows[:k], bytes_read, sorted(malformed, key=lambda m: m.line))


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _num(s: pd.Series) -> pd.Series:
    """Float values of stripped strings, NaN where empty/NA/not a number.

    Why not pd.to_numeric: on arrow strings it converts through Python objects (~3 s per
    million values and column); one regex and one cast in pyarrow are ~10x faster."""
    arr = pa.array(s.astype("str"), type=pa.string())
    ok = pc.fill_null(pc.match_substring_regex(arr, _NUMBER), False)
    out = np.full(len(s), np.nan)
    idx = np.flatnonzero(ok.to_numpy(zero_copy_only=False))
    if len(idx):
        out[idx] = pc.cast(arr.filter(ok), pa.float64()).to_numpy(zero_copy_only=False)
    return pd.Series(out, index=s.index)


def _missing(s: pd.Series) -> pd.Series:
    return s.eq("") | s.eq("NA")


def _median_fill(values: pd.Series, valid: pd.Series, keys: list[pd.Series],
                 memory: dict[object, float], default: float) -> pd.Series:
    """Fill NaN rows with the median of `valid` values grouped by the first key set that has
    one (this chunk first, then earlier chunks via `memory`), else the overall median."""
    out = values.astype(float)
    todo = out.isna()
    if not todo.any():
        return out
    for depth in range(len(keys), -1, -1):
        key = pd.Series(f"{depth}:", index=values.index)
        for part in keys[:depth]:
            key = key + "|" + part.astype(str)
        med = values[valid].groupby(key[valid]).median()
        memory.update(med.to_dict())
        filled = key[todo].map(memory).astype(float).dropna()
        out[filled.index] = filled
        todo &= out.isna()
        if not todo.any():
            break
    return out.fillna(default)


class SantanderCleaner:
    """Stateful chunk cleaner: imputation memory and last month per client for events."""

    def __init__(self, codes: tuple[str, ...] | None = None) -> None:
        self.codes = codes if codes is not None else load_catalog().bank_codes
        self.last_month = np.zeros(2_000_000, dtype=np.int32)  # 0 = never seen
        self.last_mask = np.zeros(2_000_000, dtype=np.uint32)
        self.age_memory: dict[object, float] = {}
        self.income_memory: dict[object, float] = {}
        self.months: set[date] = set()  # snapshot months seen

    def clean(self, chunk: RawChunk) -> tuple[Bundle, list[MalformedRow]]:
        """Turn a raw chunk into a Bundle; returns the chunk's malformed rows too (sorted)."""
        df = pd.DataFrame({col: chunk.frame[col].astype("str").str.strip() for col in HEADER})
        df["_line"] = chunk.lines
        df, bad = self._validate(df)
        malformed = sorted(chunk.malformed + bad, key=lambda m: m.line)
        clients = self._clients(df)
        holdings, events = self._products(df)
        return Bundle(clients=clients, holdings=holdings, product_events=events), malformed

    def _validate(self, df: pd.DataFrame) -> tuple[pd.DataFrame, list[MalformedRow]]:
        reasons = pd.Series("", index=df.index)
        ids = _num(df["ncodpers"]).where(df["ncodpers"].str.fullmatch(r"\d+").fillna(False))
        reasons[ids.isna() | (ids <= 0)] = "ncodpers is not a positive integer"
        reasons[(reasons == "") & (ids > MAX_NCODPERS)] = "ncodpers out of range"
        dato = pd.to_datetime(df["fecha_dato"], format="%Y-%m-%d", errors="coerce")
        reasons[(reasons == "") & dato.isna()] = "fecha_dato is not a date"
        for p in ALL_PRODUCTS:
            col = f"ind_{p}_ult1"
            bad = (reasons == "") & ~df[col].isin(["0", "1", "", "NA"])
            reasons[bad] = f"{col} is not 0/1/NA: " + df.loc[bad, col].str.slice(0, 20)
        is_bad = reasons != ""
        out = [MalformedRow(int(ln), r) for ln, r in zip(df["_line"][is_bad], reasons[is_bad],
                                                          strict=True)]
        df = df[~is_bad].copy()
        df["id"] = ids[~is_bad].astype(np.int64)
        df["snapshot_month"] = dato[~is_bad]
        return df, out

    def _clients(self, df: pd.DataFrame) -> pd.DataFrame:
        marks: dict[str, pd.Series] = {}
        c = pd.DataFrame({"id": df["id"], "snapshot_month": df["snapshot_month"]})
        text = {"employee_status": "ind_empleado", "country": "pais_residencia", "sex": "sexo",
                "relation_type": "tiprel_1mes", "join_channel": "canal_entrada",
                "province_name": "nomprov", "customer_type": "indrel_1mes"}
        for name, src in text.items():
            v = df[src].where(~_missing(df[src]))
            if name == "customer_type":
                v = v.str.replace(r"\.0$", "", regex=True)
            too_long = v.str.len() > TEXT_LIMITS[name]
            marks[name] = too_long.fillna(False).astype(bool)
            c[name] = v.where(~marks[name], None)
        for name, src in (("first_contract_date", "fecha_alta"),
                          ("last_primary_date", "ult_fec_cli_1t")):
            c[name] = pd.to_datetime(df[src], format="%Y-%m-%d", errors="coerce")
            marks[name] = c[name].isna() & ~_missing(df[src])
        ints = {"seniority_months": "antiguedad", "primary_status": "indrel",
                "address_type": "tipodom", "province_code": "cod_prov"}
        for name, src in ints.items():
            num = _num(df[src])
            bad = num.isna() & ~_missing(df[src])
            invalid = bad | (num < 0) | (num.notna() & (num % 1 != 0))
            if name == "seniority_months":
                invalid |= num.isna()
            marks[name] = invalid.fillna(False).astype(bool)
            c[name] = num.where(~marks[name]).astype("Int64")
        for name, (src, true, default) in BOOLS.items():
            marks[name] = _missing(df[src])
            c[name] = np.where(marks[name], default, df[src].eq(true))
        c["spouse_of_employee"] = pd.Series(np.where(df["conyuemp"].eq("S"), True, False),
                                            index=df.index, dtype=object)
        c.loc[~df["conyuemp"].isin(["S", "N"]), "spouse_of_employee"] = None
        seg = df["segmento"].map(SEGMENTS)
        marks["segment"] = seg.isna()
        c["segment"] = seg.fillna("individual")
        age = _num(df["age"])
        marks["age"] = age.isna() | (age < AGE_RANGE[0]) | (age > AGE_RANGE[1])
        age = _median_fill(age, ~marks["age"], [c["segment"]], self.age_memory, AGE_DEFAULT)
        c["age"] = age.clip(*AGE_RANGE).round().astype(np.int64)
        income = _num(df["renta"])
        income = income.where(income >= 0)
        marks["income"] = income.isna()
        prov = c["province_code"].astype(str)
        c["income"] = _median_fill(income, ~marks["income"], [c["segment"], prov],
                                   self.income_memory, INCOME_DEFAULT).round(2)
        c["language"] = "ru"
        c["marketing_consent"] = True
        c["contact_opt_out"] = False
        c["imputed_fields"] = _mark_lists(marks, df.index)
        self.months.update(pd.Timestamp(m).date() for m in c["snapshot_month"].unique())
        # One row per client: the latest month of this chunk (the writer keeps the latest).
        c = c.sort_values("snapshot_month", kind="stable").drop_duplicates("id", keep="last")
        return c.loc[:, list(CLIENT_COLUMNS)].reset_index(drop=True)

    def _products(self, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Holdings of kept products, and add/drop events against each client's last month."""
        ids = df["id"].to_numpy(np.int64)
        month = df["snapshot_month"].to_numpy("datetime64[D]")
        stamp = df["snapshot_month"]
        midx = (stamp.dt.year * 12 + stamp.dt.month).to_numpy(np.int32)
        mask = np.zeros(len(df), dtype=np.uint32)
        for k, code in enumerate(self.codes):
            mask |= df[f"ind_{code}_ult1"].eq("1").to_numpy().astype(np.uint32) << np.uint32(k)
        self._grow(int(ids.max()) + 1 if len(ids) else 0)
        holdings, events = [], []
        for m in np.unique(midx):  # the file is ordered by month; a chunk may hold two
            sel = midx == m
            i, cur = ids[sel], mask[sel]
            prev_m, prev = self.last_month[i], self.last_mask[i]
            consecutive = prev_m == m - 1
            add = np.where(consecutive, cur & ~prev, 0).astype(np.uint32)
            drop = np.where(consecutive, prev & ~cur, 0).astype(np.uint32)
            newer = prev_m < m
            self.last_month[i[newer]] = m
            self.last_mask[i[newer]] = cur[newer]
            held_rows = _bit_rows(i, month[sel], cur, self.codes)
            if len(held_rows):
                holdings.append(held_rows)
            for kind, bits in (("add", add), ("drop", drop)):
                part = _bit_rows(i, month[sel], bits, self.codes)
                if len(part):
                    events.append(part.assign(kind=kind))
        cols_h, cols_e = ["client_id", "month", "product_code"], ["client_id", "month",
                                                                   "product_code", "kind"]
        return (pd.concat(holdings, ignore_index=True) if holdings else _frame(cols_h),
                pd.concat(events, ignore_index=True) if events else _frame(cols_e))

    def _grow(self, size: int) -> None:
        old = len(self.last_month)
        if size > old:
            new = max(size, 2 * old)
            self.last_month = np.resize(self.last_month, new)
            self.last_mask = np.resize(self.last_mask, new)
            self.last_month[old:] = 0  # np.resize repeats data; clear the new tail
            self.last_mask[old:] = 0


def _bit_rows(ids: np.ndarray, months: np.ndarray, masks: np.ndarray,
              codes: tuple[str, ...]) -> pd.DataFrame:
    """One row (client_id, month, product_code) per set bit of each row's product mask."""
    bits = (masks[:, None] >> np.arange(len(codes), dtype=np.uint32)[None, :]) & np.uint32(1)
    r, k = np.nonzero(bits)
    return pd.DataFrame({"client_id": ids[r], "month": months[r],
                         "product_code": np.asarray(codes, dtype=object)[k]})


def _frame(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="datetime64[s]" if c == "month" else object)
                         for c in cols})


def _mark_lists(marks: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Per-row lists of marked field names, via a bitmask (few distinct combinations)."""
    names = list(marks)
    bits = np.zeros(len(index), dtype=np.int64)
    for k, name in enumerate(names):
        bits |= marks[name].to_numpy(dtype=bool).astype(np.int64) << k
    lists = {int(b): [n for k, n in enumerate(names) if b >> k & 1] for b in np.unique(bits)}
    return pd.Series([lists[int(b)] for b in bits], index=index, dtype=object)
