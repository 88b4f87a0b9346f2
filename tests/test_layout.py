"""The layering DESIGN.md fixes, checked on the source: `core` imports neither `api`, `web` nor `cli`.

The engine must run (workers, batch jobs, tests) without its transports, so an import of an
outer layer from core/ — even a late one inside a function — is a bug this test names by file
and line. It reads the source with `ast` (nothing is imported), so it is fast and catches
imports that only run on some code paths.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTER = frozenset({"api", "web", "cli"})


def outer_imports(source: str, filename: str = "<string>") -> list[tuple[int, str]]:
    """(line, module) for each import in `source` of a package in OUTER (absolute imports only:
    a relative import inside core/ cannot leave core)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".", 1)[0] in OUTER]
    return found


def test_the_checker_sees_outer_imports() -> None:
    """The check below can fail: top-level, nested and aliased imports are all seen."""
    source = (
        "import os\n"
        "from core.settings import get_settings\n"
        "import api.app as app\n"
        "def f():\n"
        "    from web.state import views\n"
        "    import cli.main\n"
        "from . import cli\n"
    )
    assert outer_imports(source) == [(3, "api.app"), (5, "web.state"), (6, "cli.main")]


def test_core_imports_no_outer_layer() -> None:
    files = sorted((ROOT / "core").rglob("*.py"))
    assert len(files) > 50, "core/ not found where expected"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in outer_imports(path.read_text(encoding="utf-8"), str(path))
    ]
    assert not offenders, "core must not import api, web or cli (DESIGN.md):\n" + "\n".join(offenders)
