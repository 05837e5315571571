"""`python -m infra.cli ...` runs `perso ...`."""

from __future__ import annotations

from infra.cli import main

main()
