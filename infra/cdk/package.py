"""Stage the Lambda code folder for the CDK app: `python -m infra.cdk.package [--out DIR]`.

Copies `edge/` and `lambdas/` (without caches or docs) and installs the
run-time dependencies for Lambda's platform (manylinux, arm64, Python 3.13) beside them,
so `cdk deploy` uploads one self-contained zip per function.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from infra.cdk import constants

__all__ = ["RUNTIME_REQUIREMENTS", "stage"]

ROOT = Path(__file__).resolve().parents[2]
# What the functions import at run time (boto3 is in the Lambda runtime already).
RUNTIME_REQUIREMENTS = (
    "msgpack>=1.1",
    "cachetools>=5.3",
    "pyyaml>=6.0",
    "aws-lambda-powertools[parser]>=3.0",
)
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.md", "openapi.json")


def stage(out: Path, *, dependencies: bool = True) -> Path:
    """Fill `out` with the code (and, unless told not to, the wheels for Lambda)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for package in ("edge", "lambdas"):
        shutil.copytree(ROOT / package, out / package, ignore=_SKIP)
    if dependencies:
        platform = (
            "manylinux2014_aarch64"
            if constants.ARCHITECTURE == "arm64"
            else ("manylinux2014_x86_64")
        )
        version = constants.PYTHON_RUNTIME.removeprefix("python")
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--target", str(out),
                "--platform", platform, "--implementation", "cp", "--python-version", version,
                "--only-binary=:all:", *RUNTIME_REQUIREMENTS,
            ],
            check=True,
        )  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--no-deps", action="store_true", help="Code only (for synth tests).")
    args = parser.parse_args()
    print(stage(args.out, dependencies=not args.no_deps))


if __name__ == "__main__":
    main()
