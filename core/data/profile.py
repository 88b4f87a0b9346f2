"""What is in the database, in numbers: the yardstick for loaders and the simulator.

`profile_database` returns plain JSON-able data (the CLI prints it, tests compare it with
the real sample): client and operation counts, months covered, first-month ownership rate
per product, monthly add rate per product, the offer log's make-up, and for simulated
datasets the mean true uplift per product read from the truth file.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from core.db.session import raw_connection


def _where(dataset_id: int | None, alias: str = "c") -> tuple[str, list[Any]]:
    if dataset_id is None:
        return "TRUE", []
    return f"{alias}.dataset_id = $1", [dataset_id]


async def profile_database(dataset_id: int | None = None, url: str | None = None) -> dict[str, Any]:
    async with raw_connection(url) as conn:
        where, args = _where(dataset_id)
        clients = int(await conn.fetchval(f"SELECT count(*) FROM client c WHERE {where}", *args))
        months = [
            r["month"]
            for r in await conn.fetch(
                f"SELECT DISTINCT h.month FROM holding h JOIN client c ON c.id = h.client_id "
                f"WHERE {where} ORDER BY 1",
                *args,
            )
        ]
        operations = int(
            await conn.fetchval(
                f"SELECT count(*) FROM operation o JOIN client c ON c.id = o.client_id WHERE {where}",
                *args,
            )
        )
        ownership: dict[str, float] = {}
        codes = [
            r["code"]
            for r in await conn.fetch("SELECT code FROM product WHERE kind = 'bank' AND active ORDER BY code")
        ]
        if months and clients:
            rows = await conn.fetch(
                f"SELECT h.product_code, count(*) AS n FROM holding h JOIN client c ON c.id = h.client_id "
                f"WHERE {where} AND h.month = ${len(args) + 1} GROUP BY 1",
                *args,
                months[0],
            )
            held = {r["product_code"]: r["n"] for r in rows}
            ownership = {code: round(held.get(code, 0) / clients, 5) for code in codes}
        add_rate: dict[str, float] = {}
        any_add: list[float] = []
        if len(months) > 1 and clients:
            rows = await conn.fetch(
                f"SELECT e.product_code, count(*) AS n FROM product_event e "
                f"JOIN client c ON c.id = e.client_id WHERE {where} AND e.kind = 'add' "
                f"AND e.month > ${len(args) + 1} GROUP BY 1",
                *args,
                months[0],
            )
            adds = {r["product_code"]: r["n"] for r in rows}
            denom = clients * (len(months) - 1)
            add_rate = {code: round(adds.get(code, 0) / denom, 6) for code in codes}
            rows = await conn.fetch(
                f"SELECT e.month, count(DISTINCT e.client_id) AS n FROM product_event e "
                f"JOIN client c ON c.id = e.client_id WHERE {where} AND e.kind = 'add' "
                f"AND e.month > ${len(args) + 1} GROUP BY 1 ORDER BY 1",
                *args,
                months[0],
            )
            by_month = {r["month"]: r["n"] for r in rows}
            any_add = [round(by_month.get(m, 0) / clients, 5) for m in months[1:]]
        offers = await _offers(conn, where, args)
        datasets = [
            dict(r)
            for r in await conn.fetch(
                "SELECT id, kind, name, truth_path FROM dataset "
                + ("WHERE id = $1 " if dataset_id is not None else "")
                + "ORDER BY id",
                *args,
            )
        ]
    result: dict[str, Any] = {
        "clients": clients,
        "months": len(months),
        "first_month": str(months[0]) if months else None,
        "last_month": str(months[-1]) if months else None,
        "operations": operations,
        "operations_per_client_month": round(operations / (clients * len(months)), 2)
        if clients and months
        else 0.0,
        "ownership_rate": ownership,
        "monthly_add_rate": add_rate,
        "any_add_rate_by_month": any_add,
        "any_add_rate_mean": round(sum(any_add) / len(any_add), 5) if any_add else None,
        "offers": offers,
        "datasets": [{k: (str(v) if v is not None else None) for k, v in d.items()} for d in datasets],
    }
    uplift = _true_uplift(datasets)
    if uplift is not None:
        result["true_uplift_mean"] = uplift
    return result


async def _offers(conn, where: str, args: list[Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    rows = await conn.fetch(
        f"SELECT o.product_code, o.assignment, o.arm, count(*) AS n, "
        f"avg(o.converted::int) AS conv FROM offer_log o JOIN client c ON c.id = o.client_id "
        f"WHERE {where} GROUP BY 1, 2, 3",
        *args,
    )
    total = sum(r["n"] for r in rows)
    by_arm: dict[str, int] = {}
    by_assignment: dict[str, int] = {}
    per_product: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_arm[r["arm"]] = by_arm.get(r["arm"], 0) + r["n"]
        by_assignment[r["assignment"]] = by_assignment.get(r["assignment"], 0) + r["n"]
        p = per_product.setdefault(r["product_code"], {"n": 0})
        p["n"] += r["n"]
        if r["assignment"] == "random" and r["conv"] is not None:
            p[f"random_{r['arm']}_conversion"] = round(float(r["conv"]), 5)
    return {"total": total, "by_arm": by_arm, "by_assignment": by_assignment, "per_product": per_product}


def _true_uplift(datasets: list[dict[str, Any]]) -> dict[str, float] | None:
    paths = [d["truth_path"] for d in datasets if d.get("truth_path")]
    if not paths:
        return None
    from core.data.simulator import truth_summary

    merged: dict[str, list[float]] = {}
    for path in paths:
        for code, value in truth_summary(path).items():
            merged.setdefault(code, []).append(float(value))
    return {code: round(sum(v) / len(v), 5) for code, v in sorted(merged.items())}


def render_profile(data: dict[str, Any], console: Console) -> None:
    """Human-readable profile (the JSON form is for machines)."""
    console.print(
        f"[bold]{data['clients']:,}[/] clients, [bold]{data['months']}[/] months "
        f"({data['first_month']} .. {data['last_month']}), [bold]{data['operations']:,}[/] operations "
        f"({data['operations_per_client_month']} per client-month), "
        f"{data['offers']['total']:,} offer-log rows; mean monthly share of clients adding "
        f"a product: {data['any_add_rate_mean']}"
    )
    table = Table("product", "owned (1st month)", "monthly add rate", "true uplift (mean)")
    uplift = data.get("true_uplift_mean", {})
    for code, rate in data["ownership_rate"].items():
        table.add_row(
            code,
            f"{rate:.2%}",
            f"{data['monthly_add_rate'].get(code, 0):.3%}" if data["monthly_add_rate"] else "-",
            f"{uplift[code]:+.4f}" if code in uplift else "-",
        )
    console.print(table)
