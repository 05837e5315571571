"""The perso AWS stack (CDK v2): `PersoStack` composes one construct per file.

Synthesize with `cdk synth` from this folder (see docs/notes/backend-learn.md), or in
Python with `infra.cdk.app.build_app(...)`.
"""

from __future__ import annotations

__all__: list[str] = []
