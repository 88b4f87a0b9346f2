"""Benchmark: the holdings-only chain at bank scale, stage by stage (rows/s, wall, peak memory).

    python bench/bench_santander_scale.py [--clients 950000] [--months 17] [--seed 31]
        [--workdir DIR] [--keep] [--skip-second-load] [--train-max-clients N] [--stages LIST] [--json]

Stages, each a `recsys` child process on a fresh state folder (embedded PostgreSQL):
export-santander -> db upgrade -> load-santander -> load-santander again (must add nothing)
-> train -> evaluate (MAP@7 on the last month vs popularity, 90% paired bootstrap interval)
-> recommend --all. Peak memory is the child's maximum resident set (wait4's ru_maxrss: the
recsys process and the processes it waited for; the shared PostgreSQL server is not in it,
its memory is bounded by its own settings). Numbers only: nothing passes or fails. The last
line of stdout is one JSON object with --json. The exported file is deleted unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
console = Console(stderr=True)


def recsys(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("recsys")
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "cli.main", *args]


def run_stage(name: str, argv: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run one stage as a child process; wall time, peak RSS (MB) and its stdout."""
    started = time.perf_counter()
    err_path = log.with_suffix(".stage.err")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    text = out.decode(errors="replace")
    messages = err_path.read_text(encoding="utf-8", errors="replace")  # the CLI reports on stderr
    err_path.unlink()
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n=== {name}: {' '.join(argv)}\n{messages}{text}")
    if proc.returncode != 0:
        raise SystemExit(f"stage {name} failed (exit {proc.returncode}); see {log}")
    cpu = usage.ru_utime + usage.ru_stime  # the child's own CPU, not PostgreSQL's: load-independent
    return {"stage": name, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_mb": round(usage.ru_maxrss / 1024), "out": text, "messages": messages}


def _number(pattern: str, text: str) -> int | None:
    m = re.search(pattern, " ".join(text.split()))
    return int(m.group(1).replace(",", "")) if m else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=950_000)
    ap.add_argument("--months", type=int, default=17)
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--workdir", type=Path, default=None,
                    help="Folder for the file and the state (default: a temp dir).")
    ap.add_argument("--keep", action="store_true", help="Keep the exported file and the state folder.")
    ap.add_argument("--skip-second-load", action="store_true")
    ap.add_argument("--train-max-clients", type=int, default=None,
                    help="TRAIN_MAX_CLIENTS for train/evaluate (clients sampled for fitting).")
    ap.add_argument("--stages", default=None,
                    help="Comma-separated subset, e.g. 'export,db upgrade,load', then 'train' on the "
                         "same --workdir (the state is wiped only when 'db upgrade' runs). Default: all.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="santander-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    wanted = [w.strip() for w in args.stages.split(",")] if args.stages else None
    if wanted is None or "db upgrade" in wanted:
        shutil.rmtree(home, ignore_errors=True)
    home.mkdir(exist_ok=True)
    for p in (work, home):
        p.chmod(0o755)  # the embedded server may run as another user
    csv_path, log = work / "train_ver2.csv", work / "stages.log"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(RECSYS_HOME=str(home), PYTHONUNBUFFERED="1", COLUMNS="200")
    if args.train_max_clients is not None:
        env["TRAIN_MAX_CLIENTS"] = str(args.train_max_clients)
    rows = args.clients * args.months
    stages: list[tuple[str, list[str], int | None]] = [
        ("export", recsys("data", "export-santander", str(csv_path), "--clients", str(args.clients),
                          "--months", str(args.months), "--seed", str(args.seed)), rows),
        ("db upgrade", recsys("db", "upgrade"), None),
        ("load", recsys("data", "load-santander", str(csv_path)), rows),
        ("load again", recsys("data", "load-santander", str(csv_path)), rows),
        ("train", recsys("train"), None),
        ("evaluate", recsys("evaluate", "--json"), args.clients),
        ("recommend --all", recsys("recommend", "--all"), None),
    ]
    if args.skip_second_load:
        stages = [s for s in stages if s[0] != "load again"]
    if wanted is not None:
        unknown = set(wanted) - {s[0] for s in stages}
        if unknown:
            raise SystemExit(f"--stages: unknown {sorted(unknown)}; stages: {[s[0] for s in stages]}")
        stages = [s for s in stages if s[0] in wanted]
    results: list[dict[str, Any]] = []
    evaluation: dict[str, Any] = {}
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("chain", total=len(stages))
        for name, argv, n in stages:
            bar.update(task, description=f"{name} ({args.clients:,} clients)")
            r = run_stage(name, argv, env, log)
            out = r.pop("out")
            messages = r.pop("messages")
            if name == "train":
                n = _number(r"([\d,]+) client-months", messages)
            if name == "recommend --all":
                n = _number(r"stored ([\d,]+) recommendations", messages + out)
            if name in ("export", "load", "load again"):  # the file's rows: newcomers join late
                n = _number(r"([\d,]+) rows", messages + out) or n
            if name.startswith("load"):
                r["written"] = " ".join((messages + out).split()).split("written ")[-1].split(";")[0]
            if name == "evaluate":
                evaluation = json.loads(out[out.index("{"):])
            r["rows"] = n
            r["rows_per_s"] = round(n / r["wall_s"]) if n else None
            results.append(r)
            bar.advance(task)
    summary = _evaluation_summary(evaluation)
    title = f"{args.clients:,} clients x {args.months} months (load average {os.getloadavg()[0]:.1f})"
    table = Table("stage", "rows", "rows/s", "wall s", "cpu s", "peak MB", title=title)
    for r in results:
        table.add_row(r["stage"], f"{r['rows']:,}" if r["rows"] else "-",
                      f"{r['rows_per_s']:,}" if r["rows_per_s"] else "-", f"{r['wall_s']:,.1f}",
                      f"{r['cpu_s']:,.1f}", f"{r['peak_mb']:,}")
    Console().print(table)
    Console().print(json.dumps(summary))
    if not args.keep and wanted is None:
        csv_path.unlink(missing_ok=True)
    out = {"bench": "santander_scale", "clients": args.clients, "months": args.months,
           "uptime": os.getloadavg(), "stages": results, "evaluation": summary, "workdir": str(work)}
    if args.json:
        print(json.dumps(out))


def _evaluation_summary(evaluation: dict[str, Any]) -> dict[str, Any]:
    strategies = evaluation.get("strategies", {})
    out: dict[str, Any] = {"test": evaluation.get("test"), "window": evaluation.get("window")}
    for name in ("hybrid", "popularity", "rules", "cf"):
        m = strategies.get(name) or {}
        out[name] = {"map@7": m.get("map@7"), "vs_popularity": m.get("map@7_vs_popularity")}
    return out


if __name__ == "__main__":
    main()
