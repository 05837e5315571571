"""The `edge` wheel (infra/bundle/wheel.py): contents, the compiler's exclusion, reproducibility."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from infra.bundle.wheel import (
    COMPILER_PACKAGE,
    EDGE_DIR,
    build_edge_wheel,
    edge_files,
    write_wheel,
)

__all__: list[str] = []

# Every source of the package as a path inside edge/ ("bridge.py", "compiler/x.py").
SOURCES = sorted(
    p.relative_to(EDGE_DIR).as_posix()
    for p in EDGE_DIR.rglob("*.py")
    if "__pycache__" not in p.parts
)
# The compiler: the edge/compiler/ package.
COMPILER_SOURCES = [n for n in SOURCES if n.startswith(f"{COMPILER_PACKAGE}/")]


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def _read(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name).decode("utf-8")


@pytest.fixture(scope="module")
def browser_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_edge_wheel(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def test_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_edge_wheel(tmp_path_factory.mktemp("test"), include_compiler=True)


def test_name_and_tags_say_pure_python(browser_wheel: Path) -> None:
    assert browser_wheel.name.endswith("-py3-none-any.whl")
    wheel = Parser().parsestr(_read(browser_wheel, ".dist-info/WHEEL"))
    assert wheel["Tag"] == "py3-none-any"
    assert wheel["Root-Is-Purelib"] == "true"


def test_metadata_names_the_runtime_dependencies(browser_wheel: Path) -> None:
    metadata = Parser().parsestr(_read(browser_wheel, ".dist-info/METADATA"))
    requires = metadata.get_all("Requires-Dist")
    assert requires is not None
    assert sorted(r.split(">")[0] for r in requires) == ["cachetools", "msgpack"]
    assert metadata["Name"] == "perso_edge"
    assert browser_wheel.name.startswith(f"perso_edge-{metadata['Version']}-")


def test_browser_wheel_leaves_the_compiler_out(browser_wheel: Path) -> None:
    names = _names(browser_wheel)
    assert "compiler/_yaml.py" in COMPILER_SOURCES, "has the compiler moved?"
    # The folder, whole, and nothing else.
    for source in SOURCES:
        expected = source not in COMPILER_SOURCES
        assert (f"edge/{source}" in names) is expected, source


def test_test_wheel_holds_every_source(test_wheel: Path) -> None:
    names = _names(test_wheel)
    assert [n for n in names if n.startswith("edge/") and n.endswith(".py")] == [
        f"edge/{source}" for source in SOURCES
    ]
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_record_lists_every_entry_with_its_sha256(test_wheel: Path) -> None:
    record = _read(test_wheel, ".dist-info/RECORD").splitlines()
    with zipfile.ZipFile(test_wheel) as archive:
        names = archive.namelist()
        assert [line.split(",")[0] for line in record] == names
        for line in record:
            name, digest, size = line.split(",")
            if name.endswith("/RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}", name
            assert int(size) == len(data), name


def test_same_sources_give_the_same_bytes(tmp_path: Path, browser_wheel: Path) -> None:
    # Given two builds in different places at different times
    again = build_edge_wheel(tmp_path)
    # Then the bytes are identical: fixed timestamps and modes, sorted entries
    assert again.read_bytes() == browser_wheel.read_bytes()
    with zipfile.ZipFile(again) as archive:
        infos = archive.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    package = [i.filename for i in infos if not i.filename.startswith("perso_edge-")]
    assert package == sorted(package)
    assert infos[-1].filename.endswith(".dist-info/RECORD")


def test_browser_wheel_imports_without_pyyaml(tmp_path: Path, browser_wheel: Path) -> None:
    # Given the browser wheel unpacked alone, with `yaml` made unimportable
    with zipfile.ZipFile(browser_wheel) as archive:
        archive.extractall(tmp_path / "site")
    modules = [
        n[:-3].replace("/", ".").removesuffix(".__init__")
        for n in _names(browser_wheel)
        if n.endswith(".py")
    ]
    script = (
        "import sys, importlib\n"
        "sys.modules['yaml'] = None\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(tmp_path / 'site')!r}), module.__file__\n"
        "print(len(sys.modules))\n"
    )
    # When every module in it is imported
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    # Then none of them needed the compiler or PyYAML
    assert done.returncode == 0, done.stderr


def test_missing_package_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"has no __init__\.py"):
        edge_files(tmp_path)


def test_write_wheel_refuses_paths_outside_the_package(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a plain package path"):
        write_wheel(tmp_path, name="x", version="1", files={"../evil.py": b""})
