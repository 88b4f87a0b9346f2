"""Helpers shared by CLI sub-commands: running coroutines, printing, clear errors."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

from rich.console import Console

T = TypeVar("T")

# Tables stay readable when output goes to a log or a pipe (rich assumes 80 columns there).
console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a user-facing error (no traceback) and exit non-zero."""
    console.print(f"[bold red]error:[/] {message}")
    raise SystemExit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
