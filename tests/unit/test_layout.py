"""The arrows of the layout (DESIGN §2, docs/internals.md), read from the source with `ast`.

Every import statement counts, those inside functions too: an import that runs late is
still an arrow.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("edge", "lambdas", "infra")
PROJECT = (*PACKAGES, "tests")

# Modules allowed to load a module by name, each with the reason it must (none).
DYNAMIC_IMPORTS: dict[str, str] = {}
# What lambdas/dal may import besides the stdlib and lambdas.models.
DAL_THIRD_PARTY = {"boto3", "botocore", "cachetools", "aws_lambda_powertools"}


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(module: str) -> set[str]:
    """Every module `module` imports (for `from a import b`: `a.b` if that is a module)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(
                f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES
            )
    return found


def _under(name: str, *roots: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def _offenders(owner: str, *forbidden: str) -> dict[str, list[str]]:
    out = {}
    for module in MODULES:
        if _under(module, owner):
            bad = sorted(name for name in _imports(module) if _under(name, *forbidden))
            if bad:
                out[module] = bad
    return out


def test_the_packages_are_found() -> None:
    assert {"edge.artifact", "lambdas.dal.store", "infra.cli", "infra.local.stack"} <= set(MODULES)
    assert {"infra.bundle", "infra.bundle.lock", "infra.bundle.wheel"} <= set(MODULES)


def test_edge_imports_nothing_of_the_others() -> None:
    assert _offenders("edge", "lambdas", "infra", "tests") == {}


def test_edge_packages_keep_to_their_arrows() -> None:
    # docs/internals.md: conditions and context read only the shared aliases and limits;
    # nothing else in edge imports the compiler (the browser wheel leaves it out).
    def reaching(owner: str, *allowed: str) -> dict[str, list[str]]:
        out = {}
        for module in MODULES:
            if _under(module, owner):
                names = _imports(module)
                bad = sorted(
                    n for n in names if _under(n, "edge") and not _under(n, owner, *allowed)
                )
                if bad:
                    out[module] = bad
        return out

    assert reaching("edge.conditions", "edge.types", "edge.limits") == {}
    assert reaching("edge.context", "edge.types") == {}
    users = {
        module: sorted(n for n in _imports(module) if _under(n, "edge.compiler"))
        for module in MODULES
        if _under(module, "edge") and not _under(module, "edge.compiler")
    }
    assert {module: names for module, names in users.items() if names} == {}


def test_edge_packages_are_used_through_their_faces() -> None:
    # `edge.decide._walk` is the decide package's own business; everything else in the
    # project's code (tests may look inside) imports `edge.decide`.
    out = {}
    for module in MODULES:
        owner = ".".join(module.split(".")[:2])
        inside = [
            name
            for name in _imports(module)
            if _under(name, "edge")
            and any(part.startswith("_") for part in name.split(".")[1:])
            and not _under(name, owner)
        ]
        if inside:
            out[module] = sorted(inside)
    assert out == {}


def test_lambdas_never_imports_infra() -> None:
    assert _offenders("lambdas", "infra", "tests") == {}


def test_dal_depends_on_models_only() -> None:
    allowed = {"lambdas.dal", "lambdas.models"}
    out = {}
    for module in MODULES:
        if not _under(module, "lambdas.dal"):
            continue
        bad = sorted(
            name
            for name in _imports(module)
            if name
            and not _under(name, *allowed)
            and (
                _under(name, *PROJECT)
                or name.split(".")[0] not in sys.stdlib_module_names | DAL_THIRD_PARTY
            )
        )
        if bad:
            out[module] = bad
    assert out == {}


def test_logic_and_models_do_not_import_upwards() -> None:
    assert _offenders("lambdas.logic", "lambdas.handlers") == {}
    assert (
        _offenders("lambdas.models", "edge", "lambdas.handlers", "lambdas.logic", "lambdas.dal")
        == {}
    )


def test_infra_rooms_import_the_cli_never() -> None:
    # The command imports the rooms; a room importing the command back is a hidden cycle.
    assert _offenders("infra.local", "infra.cli") == {}
    assert _offenders("infra.cdk", "infra.cli", "infra.local") == {}
    assert _offenders("infra.report", "infra.cli", "infra.local") == {}


def test_the_bundle_room_imports_nothing_of_the_project_but_itself() -> None:
    # It packs edge's files into the wheel without importing them, and both the command
    # and the dev server call it: importing either back would be a cycle.
    others = ("edge", "lambdas", "infra.cli", "infra.local", "infra.cdk", "tests")
    assert _offenders("infra.bundle", *others) == {}
    # The other rooms use its face (infra/bundle/__init__.py), not the modules behind it.
    inside = {
        module: sorted(n for n in _imports(module) if n.startswith("infra.bundle."))
        for module in MODULES
        if _under(module, "infra") and not _under(module, "infra.bundle")
    }
    assert {module: names for module, names in inside.items() if names} == {}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_loaded_by_name(module: str) -> None:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("import_module", "__import__", "find_spec", "spec_from_file_location"):
            calls.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    if module in DYNAMIC_IMPORTS:
        assert calls, f"{module} no longer loads a module by name: drop it from the allowlist"
    else:
        assert calls == []
