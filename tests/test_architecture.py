"""The layering rules of CONVENTIONS.md, enforced: a violation fails the build, not a review."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())
IO_LIBRARIES = {"asyncpg", "nats", "starlette", "uvicorn", "httpx", "sqlalchemy", "alembic", "websockets"}


def imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def top(module: str) -> str:
    return module.split(".")[0]


def test_domain_code_imports_only_the_standard_library_pydantic_and_its_own_domain() -> None:
    offences = []
    for service in SERVICES:
        for path in (ROOT / "services" / service / "src").glob("*/domain/**/*.py"):
            own_domain = f"brigade_{service}.domain"
            for line, module in imports(path):
                allowed = (
                    top(module) in sys.stdlib_module_names
                    or top(module) == "pydantic"
                    or module.startswith(own_domain)
                    or module == "__future__"
                )
                if not allowed:
                    offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


def test_only_adapters_and_entrypoints_touch_io_libraries() -> None:
    offences = []
    for service in SERVICES:
        src = ROOT / "services" / service / "src" / f"brigade_{service}"
        for layer in ("domain", "service"):
            for path in (src / layer).glob("**/*.py"):
                for line, module in imports(path):
                    # asyncpg appears in use-case signatures only as the transaction they run in.
                    if top(module) in IO_LIBRARIES - {"asyncpg"}:
                        offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


def test_the_shared_libraries_never_import_a_service() -> None:
    services = {f"brigade_{s}" for s in SERVICES}
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in (ROOT / "libs").glob("*/src/**/*.py")
        for line, module in imports(path)
        if top(module) in services
    ]
    assert offences == []


def test_contracts_depend_on_nothing_but_pydantic() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in (ROOT / "libs/contracts/src").glob("**/*.py")
        for line, module in imports(path)
        if top(module) not in sys.stdlib_module_names | {"pydantic", "brigade_contracts", "__future__"}
    ]
    assert offences == []


def test_services_do_not_import_each_other() -> None:
    offences = []
    for service in SERVICES:
        others = {f"brigade_{s}" for s in SERVICES if s != service}
        for path in (ROOT / "services" / service / "src").glob("**/*.py"):
            for line, module in imports(path):
                if top(module) in others:
                    offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []
