"""Checks that the Pyodide pass really runs in Pyodide, on the installed wheels.

Run by tests/pyodide/run.py inside Pyodide only (its name keeps CPython's collection
away from it): if these fail, the rest of the Pyodide pass proves nothing.
"""

from __future__ import annotations

import importlib
import sys
import sysconfig
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgpack
import pytest

import edge
from edge.model import Ruleset

__all__: list[str] = []

# run.py copies the browser wheel (infra.bundle.wheel, include_compiler=False) here.
BROWSER_WHEEL_DIR = Path("/browser-wheel")


def test_this_is_pyodide_on_python_3_14() -> None:
    assert sys.platform == "emscripten"
    assert sys.version_info[:2] == (3, 14)


def test_edge_comes_from_the_installed_wheel_not_the_sources() -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    assert Path(edge.__file__).parent.samefile(site / "edge")


def test_msgpack_uses_its_wasm_extension() -> None:
    # The wasm wheel's C extension, not the slow pure-Python fallback.
    from msgpack import _cmsgpack  # type: ignore[attr-defined]

    assert msgpack.Packer is _cmsgpack.Packer
    assert msgpack.unpackb(msgpack.packb({"a": [1, 2.5]})) == {"a": [1, 2.5]}


def test_zoneinfo_has_time_zone_data() -> None:
    # Pyodide ships none; the tzdata wheel provides it.
    local = datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(ZoneInfo("Europe/Lisbon"))
    assert local.hour == 13


def test_a_ruleset_round_trips_through_msgpack() -> None:
    ruleset = Ruleset.from_dict({"schema": 1, "site": "shop.example", "timezone": "UTC"})
    packed = msgpack.packb(ruleset.to_dict(), use_bin_type=True)
    assert Ruleset.from_dict(msgpack.unpackb(packed, raw=False)) == ruleset


def test_the_repository_pytest_settings_apply(request: pytest.FixtureRequest) -> None:
    # pyproject.toml's filterwarnings = ["error"] turns this warning into an exception.
    with pytest.raises(UserWarning, match="becomes an error"):
        warnings.warn("becomes an error", UserWarning, stacklevel=1)
    assert request.config.getini("xfail_strict") is True
    assert request.config.getoption("strict_markers") is True  # from addopts, via -o


def test_the_browser_wheel_alone_loads_an_artifact_and_decides(tmp_path: Path) -> None:
    # Given the wheel shipped to browsers (no compiler), unpacked on its own, with PyYAML
    # made unimportable, and a large artifact made by the full package
    from tests._factories import NOW, generated_ruleset, sample_context, sample_profile

    (wheel,) = BROWSER_WHEEL_DIR.glob("perso_edge-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
        names = [n for n in archive.namelist() if n.endswith(".py")]
    assert names and not any(n.startswith("edge/compiler/") for n in names)
    source = generated_ruleset().to_dict()
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in {"edge", "yaml"}}
    for name in saved:
        del sys.modules[name]
    sys.modules["yaml"] = None  # type: ignore[assignment]
    sys.path.insert(0, str(tmp_path))
    try:
        # When every module of it is imported and it decides on that artifact
        for name in names:
            module = importlib.import_module(name[:-3].replace("/", ".").removesuffix(".__init__"))
            assert Path(module.__file__ or "").is_relative_to(tmp_path), module.__file__
        model = importlib.import_module("edge.model")
        artifact = importlib.import_module("edge.artifact")
        decide = importlib.import_module("edge.decide").decide
        packed = artifact.encode(model.Ruleset.from_dict(source))
        ruleset = artifact.load(packed.data, sha256=packed.sha256)
        result = decide(ruleset, sample_context(), sample_profile(), NOW)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [k for k in sys.modules if k.split(".")[0] in {"edge", "yaml"}]:
            del sys.modules[name]
        sys.modules.update(saved)
    # Then every slot got a decision, some of them personalized
    assert len(result.decisions) == 20
    assert {d.reason for d in result.decisions} & {"matched", "holdout"}
