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


def _core_modules() -> dict[str, Path]:
    """Dotted name -> file of every plain module of core (package __init__ files left out: a
    package re-exporting its submodules, which import siblings through it, is not a circle)."""
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): path
        for path in (ROOT / "core").rglob("*.py")
        if path.name != "__init__.py"
    }


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of `modules` it imports anywhere in its body (late imports too:
    a late import hides a circle from the interpreter, not from the reader)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                deps.add(node.module)
                deps.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_sees_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_core_modules_import_no_circle() -> None:
    """Two modules that import each other (core.services.recommend and .explanations did, through
    a late import) cannot be read, tested or moved one at a time."""
    found = cycles(import_graph(_core_modules()))
    assert not found, "import circles in core:\n" + "\n".join(" <-> ".join(c) for c in found)


# What each long-running process imports at start: `recsys up` starts the relay, the worker and
# the API at once on the same cores, and every `recsys` command pays the CLI's imports.
_PROCESS_IMPORTS = {
    "cli.main": ("alembic", "pandas", "catboost", "sklearn", "strawberry"),
    "core.events.runtime": ("pandas", "catboost", "sklearn", "scipy"),  # the relay's wiring
}


def test_processes_do_not_import_what_they_do_not_use() -> None:
    import subprocess
    import sys

    for module, heavy in _PROCESS_IMPORTS.items():
        code = f"import sys, {module}; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "", f"importing {module} pulls in {out.stdout.strip()}"
