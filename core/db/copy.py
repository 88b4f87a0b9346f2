"""Fast bulk loading with PostgreSQL's binary COPY, encoded by numpy.

Why: the simulator's operations table reaches tens of millions of rows; building Python
tuples and Decimals per row would cost minutes. Here each column is encoded as a
fixed-width big-endian field in a numpy structured array, so a chunk of a million rows is
encoded in a few vectorised steps. Text columns are supported when their values are few
(categories, product codes): rows are grouped by those values so that widths are fixed
inside each group (row order in a table has no meaning).

Column kinds: int2, int4, int8, float4, float8, bool, date (datetime64[D] or date objects),
timestamptz (datetime64 in UTC), money (integer cents -> numeric with scale 2), text
(low-cardinality), null (always NULL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)

_PG_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us").astype(np.int64)
_PG_EPOCH_DAYS = np.datetime64("2000-01-01", "D").astype(np.int64)

_FIXED: dict[str, tuple[str, int]] = {
    "int2": (">i2", 2),
    "int4": (">i4", 4),
    "int8": (">i8", 8),
    "float4": (">f4", 4),
    "float8": (">f8", 8),
    "bool": ("u1", 1),
    "date": (">i4", 4),
    "timestamptz": (">i8", 8),
}
_MONEY_WIDTH = 16  # 4 int16 header words + 4 base-10000 digits


@dataclass(frozen=True)
class Col:
    name: str
    kind: str


def _to_pg_values(kind: str, values: pd.Series | np.ndarray) -> np.ndarray:
    if kind == "timestamptz":
        arr = pd.to_datetime(values, utc=True).to_numpy(dtype="datetime64[us]")
        return arr.astype(np.int64) - _PG_EPOCH_US
    if kind == "date":
        arr = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
        return arr.astype(np.int64) - _PG_EPOCH_DAYS
    if kind == "bool":
        return np.asarray(values, dtype=bool).astype(np.uint8)
    return np.asarray(values)


def _money_fields(cents: np.ndarray) -> np.ndarray:
    """numeric(.,2) wire format for integer cents: fixed 4 digit groups, weight 2."""
    cents = np.asarray(cents, dtype=np.int64)
    if cents.size and np.abs(cents).max() >= 10**14:
        raise ValueError("amount out of range for numeric(14,2)")
    neg = cents < 0
    a = np.abs(cents)
    whole, frac = np.divmod(a, 100)
    out = np.empty((len(a), 8), dtype=">i2")
    out[:, 0] = 4  # ndigits
    out[:, 1] = 2  # weight: first group is 10^8
    out[:, 2] = np.where(neg, 0x4000, 0)
    out[:, 3] = 2  # dscale
    out[:, 4] = whole // 10**8
    out[:, 5] = (whole // 10**4) % 10**4
    out[:, 6] = whole % 10**4
    out[:, 7] = frac * 100
    return out


def _encode_group(frame: pd.DataFrame, cols: Sequence[Col], texts: dict[str, bytes]) -> bytes:
    n = len(frame)
    fields: list[tuple[str, str | np.dtype, tuple[int, ...]]] = [("nf", ">i2", ())]
    for c in cols:
        fields.append((f"l_{c.name}", ">i4", ()))
        if c.kind in _FIXED:
            fields.append((c.name, _FIXED[c.kind][0], ()))
        elif c.kind == "money":
            fields.append((c.name, ">i2", (8,)))
        elif c.kind == "text":
            fields.append((c.name, "S1", (len(texts[c.name]),)) if texts[c.name] else (c.name, "u1", (0,)))
        elif c.kind != "null":
            raise ValueError(f"unsupported COPY column kind {c.kind!r}")
    rec = np.zeros(n, dtype=np.dtype(fields))  # type: ignore[call-overload]
    rec["nf"] = len(cols)
    for c in cols:
        if c.kind in _FIXED:
            rec[f"l_{c.name}"] = _FIXED[c.kind][1]
            rec[c.name] = _to_pg_values(c.kind, frame[c.name])
        elif c.kind == "money":
            rec[f"l_{c.name}"] = _MONEY_WIDTH
            rec[c.name] = _money_fields(frame[c.name].to_numpy())
        elif c.kind == "text":
            raw = texts[c.name]
            rec[f"l_{c.name}"] = len(raw)
            if raw:
                rec[c.name] = np.frombuffer(raw, dtype="S1")
        else:  # null
            rec[f"l_{c.name}"] = -1
    return rec.tobytes()


def encode(frame: pd.DataFrame, cols: Sequence[Col]) -> bytes:
    """Binary COPY body (no header/trailer) for `frame`'s rows in `cols` order."""
    text_cols = [c.name for c in cols if c.kind == "text"]
    if frame.empty:
        return b""
    if not text_cols:
        return _encode_group(frame, cols, {})
    parts = []
    for key, group in frame.groupby(text_cols, sort=False, observed=True):
        values = key if isinstance(key, tuple) else (key,)
        if any(pd.isna(v) for v in values):
            raise ValueError(f"NULL in text column(s) {text_cols}: not supported by the fast path")
        texts = {name: str(v).encode() for name, v in zip(text_cols, values, strict=True)}
        parts.append(_encode_group(group, cols, texts))
    return b"".join(parts)


async def _stream(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    yield HEADER
    for chunk in chunks:
        if chunk:
            yield chunk
    yield TRAILER


async def copy_frames(conn, table: str, cols: Sequence[Col], frames: Iterable[pd.DataFrame]) -> int:  # type: ignore[no-untyped-def]
    """COPY all `frames` into `table` in one statement; returns the number of rows."""
    count = 0

    def bodies() -> Iterable[bytes]:
        nonlocal count
        for f in frames:
            count += len(f)
            yield encode(f, cols)

    await conn.copy_to_table(table, source=_stream(bodies()), columns=[c.name for c in cols], format="binary")
    return count
