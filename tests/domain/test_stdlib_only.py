"""tracker.domain imports only the standard library and itself, read from its source files.

The import-linter contract of `make check` forbids the project's other packages and its
third-party dependencies by name; this test also catches a dependency nobody listed there."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import tracker.domain

DOMAIN = Path(tracker.domain.__file__).parent


def imported(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    package = ".".join(("tracker", "domain", *path.parent.relative_to(DOMAIN).parts))
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0]
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module is not None:
                names.add(node.module)
    return names


def test_the_domain_imports_only_the_standard_library_and_itself():
    files = sorted(DOMAIN.rglob("*.py"))
    assert files
    outside = {
        f"{path.relative_to(DOMAIN)}: {name}"
        for path in files
        for name in imported(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name != "tracker.domain"
        and not name.startswith("tracker.domain.")
    }
    assert outside == set()
