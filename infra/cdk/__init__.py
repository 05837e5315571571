"""The perso AWS stack (CDK v2): `PersoStack` composes one construct per file.

Synthesize with `cdk synth` from this folder (see docs/notes/backend-learn.md), or in
Python with `infra.cdk.app.build_app(...)`.

Owns the constructs, their names (`constants`) and the staging of the functions' code
(`package`). May import aws_cdk, constructs and `lambdas.models` (the `PERSO_*` names and
the CDN cache headers the functions also use); never `infra.cli` or `infra.local`.
"""

from __future__ import annotations

__all__: list[str] = []
