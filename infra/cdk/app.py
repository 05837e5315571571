"""The CDK app: `cdk synth` / `cdk deploy` run `python -m infra.cdk.app` (cdk.json).

`PERSO_LAMBDA_CODE` (default `build/lambda`) is the folder with the functions' code and
dependencies, made by `python -m infra.cdk.package` (see docs/notes/backend-learn.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Environment
from aws_cdk import aws_lambda as lambda_

from infra.cdk import constants
from infra.cdk.stack import PersoStack

__all__ = ["build_app"]


def build_app(*, code_dir: Path, outdir: str | None = None) -> tuple[App, PersoStack]:
    """The app and its one stack (synthesized by the caller: `app.synth()`)."""
    if not code_dir.is_dir():
        raise SystemExit(
            f"{code_dir}: the Lambda code folder does not exist; run `python -m infra.cdk.package`."
        )
    app = App(outdir=outdir) if outdir else App()
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    stack = PersoStack(
        app, constants.STACK_NAME, code=lambda_.Code.from_asset(str(code_dir)), env=env
    )
    return app, stack


def main() -> None:
    app, _ = build_app(code_dir=Path(os.environ.get("PERSO_LAMBDA_CODE", "build/lambda")))
    app.synth()


if __name__ == "__main__":
    main()
