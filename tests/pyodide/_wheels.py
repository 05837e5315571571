"""The wheels the Pyodide test pass installs, fetched once into `.cache/wheels/`.

Pyodide's npm package holds the interpreter and the stdlib only, and micropip needs the
network, so every third-party wheel is fetched here with pip and installed by the runner
from local files. Each group is downloaded only when its stamp (the exact pip command)
is missing or different, so a warm run never touches the network.

Versions are the ones CPython tests with: pinned in pyproject's [dev] extra, and for
what pyproject does not list (pytest's and hypothesis's own dependencies) the version
installed in this venv, so both passes run the same pytest stack.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.bundle.wheel import write_wheel

__all__ = ["CACHE", "PLATFORM", "ensure_wheels", "pinned"]

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "wheels"
# Pyodide 314's ABI (pyodide-lock.json: abi_version 2026_0), as PyPI tags its wasm wheels.
PLATFORM = "pyemscripten_2026_0_wasm32"
PYTHON = "3.14"
# Pyodide ships no time zone data; edge.context and the compiler need zoneinfo.
TZDATA = "tzdata==2026.6"
# Installed alongside, pinned to the venv's versions (see the module docstring).
FOLLOWERS = ("iniconfig", "packaging", "pluggy", "pygments", "sortedcontainers")


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    requirements: tuple[str, ...]
    pip_options: tuple[str, ...]


def pinned(name: str) -> str:
    """`name==version` from pyproject's [dev] extra, or else from this venv."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in pyproject["project"]["optional-dependencies"]["dev"]:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)", requirement)
        if match and _canonical(match.group(1)) == _canonical(name):
            return f"{name}=={match.group(3)}"
    return f"{name}=={importlib.metadata.version(name)}"


def ensure_wheels(*, log: bool = True) -> list[Path]:
    """Every wheel the Pyodide pass needs (edge's own excepted), downloading what is missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels: list[Path] = []
    with _locked(CACHE / ".lock"):
        for group in _groups():
            wheels += _ensure_group(group, log=log)
        wheels.append(_ensure_pure_pyyaml(log=log))
    return sorted(wheels)


def _groups() -> list[_Group]:
    wasm = (
        "--only-binary=:all:",
        f"--platform={PLATFORM}",
        f"--python-version={PYTHON}",
        "--implementation=cp",
        "--no-deps",
    )
    pure = (
        "--only-binary=:all:",
        "--platform=any",
        f"--python-version={PYTHON}",
        "--implementation=py",
    )
    return [
        # msgpack has a C extension; hypothesis now has a Rust one. PyPI has wasm builds of both.
        _Group("wasm", (pinned("msgpack"), pinned("hypothesis")), wasm),
        _Group(
            "pure",
            (
                pinned("cachetools"),
                pinned("pytest"),
                TZDATA,
                *(pinned(name) for name in FOLLOWERS),
            ),
            pure,
        ),
    ]


def _ensure_group(group: _Group, *, log: bool) -> list[Path]:
    folder = CACHE / group.name
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        *group.pip_options, "-d", str(folder), *group.requirements,
    ]  # fmt: skip
    stamp = CACHE / f"{group.name}.stamp"
    key = _key(command[3:])
    if _fresh(stamp, key, folder):
        return sorted(folder.glob("*.whl"))
    if log:
        print(f"pyodide: downloading {' '.join(group.requirements)}", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    _pip(command)
    wheels = sorted(folder.glob("*.whl"))
    stamp.write_text(key + "\n" + "\n".join(w.name for w in wheels) + "\n", encoding="utf-8")
    return wheels


def _ensure_pure_pyyaml(*, log: bool) -> Path:
    """PyYAML's pure half (`lib/yaml` of the sdist) as a py3-none-any wheel.

    PyPI has no pure PyYAML wheel and no wasm one. Without libyaml, PyYAML *is* its
    `lib/yaml` package (`yaml.cyaml` fails to import and `__with_libyaml__` becomes
    False), so packaging that folder is what `setup.py --without-libyaml` would build.
    The `_yaml` shim is left out: it only re-exports the C extension.
    """
    requirement = pinned("pyyaml")
    version = requirement.split("==")[1]
    folder = CACHE / "pyyaml"
    stamp = CACHE / "pyyaml.stamp"
    key = _key([requirement, "lib/yaml"])
    if _fresh(stamp, key, folder):
        return next(folder.glob("*.whl"))
    if log:
        print(f"pyodide: building a pure wheel of {requirement}", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    sdists = folder / "sdist"
    _pip([
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-binary=pyyaml", "--no-deps", "-d", str(sdists), requirement,
    ])  # fmt: skip
    # Only PyYAML itself as source: with ":all:" pip would also build the sdist's build
    # requirements (Cython among them) from source to read its metadata, minutes of C.
    (sdist,) = sdists.glob("*.tar.gz")
    files: dict[str, bytes] = {}
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if member.isfile() and parts[1:3] == ["lib", "yaml"] and member.name.endswith(".py"):
                extracted = archive.extractfile(member)
                assert extracted is not None
                files["/".join(parts[2:])] = extracted.read()
    if "yaml/__init__.py" not in files:
        raise RuntimeError(f"{sdist.name} has no lib/yaml/__init__.py: its layout changed")
    wheel = write_wheel(folder, name="PyYAML", version=version, files=files)
    shutil.rmtree(sdists)
    stamp.write_text(key + "\n" + wheel.name + "\n", encoding="utf-8")
    return wheel


def _pip(command: list[str]) -> None:
    # pip's output is noise when it works and the whole story when it does not.
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"pip could not fetch the Pyodide test wheels ({' '.join(command[4:])}):\n"
            f"{done.stdout}{done.stderr}"
        )


def _fresh(stamp: Path, key: str, folder: Path) -> bool:
    if not stamp.is_file():
        return False
    lines = stamp.read_text(encoding="utf-8").split()
    return bool(lines) and lines[0] == key and all((folder / n).is_file() for n in lines[1:])


def _key(parts: Sequence[str]) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # The benchmark and the test pass may both fill the cache at once.
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
