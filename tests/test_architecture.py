"""The layering rules of CONVENTIONS.md, enforced: a violation fails the build, not a review."""

from __future__ import annotations

import ast
import enum
import importlib
import sys
from collections.abc import Iterator
from functools import cache
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


def names_imported(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, module, name) for every `from module import name` of a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def layer_files(service: str, layer: str) -> list[Path]:
    return sorted((ROOT / "services" / service / "src" / f"brigade_{service}" / layer).glob("**/*.py"))


def test_domain_code_imports_only_the_standard_library_pydantic_its_own_domain_and_wire_vocabularies() -> None:
    """The domain may name the wire's closed sets (the enums of brigade_contracts: order statuses,
    ledger reasons) so they are written once; never a wire model, which is mapped at the edge."""
    offences = []
    for service in SERVICES:
        own_domain = f"brigade_{service}.domain"
        for path in layer_files(service, "domain"):
            for line, module, name in names_imported(path):
                if top(module) == "brigade_contracts":
                    value = getattr(importlib.import_module(module), name)
                    if not (isinstance(value, type) and issubclass(value, enum.Enum)):
                        offences.append(f"{path.relative_to(ROOT)}:{line} imports the wire model {module}.{name}")
            for line, module in imports(path):
                allowed = top(module) in sys.stdlib_module_names | {
                    "pydantic",
                    "__future__",
                    "brigade_contracts",
                } or module.startswith(own_domain)
                if not allowed:
                    offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


@cache
def common_module_reaches_io(module: str) -> str | None:
    """The I/O library a brigade_common module imports, directly or through other brigade_common
    modules (None when it is pure)."""
    relative = module.replace(".", "/")
    base = ROOT / "libs/common/src" / relative
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    for _, imported in imports(path):
        if top(imported) in IO_LIBRARIES:
            return imported
        if top(imported) == "brigade_common" and imported != module:
            found = common_module_reaches_io(imported)
            if found:
                return f"{imported} → {found}"
    return None


def test_use_cases_and_the_domain_depend_on_ports_not_on_adapters_or_io() -> None:
    """No service/ or domain/ module imports an adapter, an entrypoint, the bootstrap, or an I/O
    library (asyncpg, nats, starlette …), not even through a module of the common library."""
    offences = []
    for service in SERVICES:
        pkg = f"brigade_{service}"
        for layer in ("domain", "service"):
            for path in layer_files(service, layer):
                for line, module in imports(path):
                    where = f"{path.relative_to(ROOT)}:{line}"
                    if top(module) in IO_LIBRARIES or module.startswith(
                        (f"{pkg}.adapters", f"{pkg}.entrypoints", f"{pkg}.bootstrap")
                    ):
                        offences.append(f"{where} imports {module}")
                    elif top(module) == "brigade_common" and (io := common_module_reaches_io(module)):
                        offences.append(f"{where} imports {module}, which reaches {io}")
    assert offences == []


def test_imports_run_one_way_bootstrap_to_entrypoints_to_use_cases() -> None:
    """Only `__main__` and the definition (whose app factory builds the app) import the bootstrap;
    adapters never import entrypoints."""
    offences = []
    for service in SERVICES:
        pkg = f"brigade_{service}"
        for path in sorted((ROOT / "services" / service / "src" / pkg).glob("**/*.py")):
            rel = path.relative_to(ROOT / "services" / service / "src" / pkg)
            for line, module in imports(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                if module == f"{pkg}.bootstrap" and rel.name not in ("__main__.py", "definition.py"):
                    offences.append(f"{where} imports the bootstrap")
                if rel.parts[0] == "adapters" and module.startswith(f"{pkg}.entrypoints"):
                    offences.append(f"{where}: an adapter imports {module}")
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


SERVER_FIXTURES = {"database_url", "pg_server", "nats_url", "nats_server", "pool", "nc"}


def test_unit_tests_of_the_services_need_no_server() -> None:
    """`tests/unit` runs in milliseconds against fakes: no I/O library, no fixture that starts a
    server (the common pytest plugin starts PostgreSQL or nats-server only for those)."""
    offences = []
    for path in sorted((ROOT / "services").glob("*/tests/unit/**/*.py")):
        where = path.relative_to(ROOT)
        for line, module in imports(path):
            if top(module) in IO_LIBRARIES:
                offences.append(f"{where}:{line} imports {module}")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                wanted = {a.arg for a in node.args.args} & SERVER_FIXTURES
                if wanted:
                    offences.append(f"{where}:{node.lineno} {node.name} asks for {sorted(wanted)}")
    assert offences == []
