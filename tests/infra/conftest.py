"""One CDK synth per session (jsii starts Node; a synth takes tens of seconds)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    from aws_cdk.assertions import Template

    from infra.cdk.app import build_app

    code = tmp_path_factory.mktemp("lambda-code")
    (code / "lambdas").mkdir()
    (code / "lambdas" / "__init__.py").write_text("", encoding="utf-8")
    out = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(code_dir=Path(code), outdir=str(out))
    assembly = app.synth()
    assert assembly.get_stack_by_name(stack.stack_name).template
    yield Template.from_stack(stack)
