"""Run the API locally: moto's server, the table, an API Gateway v2 adapter.

>>> from lambdas.local import start_local_backend  # doctest: +SKIP
>>> backend = start_local_backend(port=0)           # doctest: +SKIP
>>> backend.api("GET", "/v1/openapi.json", {}, b"")[0]  # doctest: +SKIP
200
"""

from __future__ import annotations

from lambdas.local.stack import LocalBackend, start_local_backend

__all__ = ["LocalBackend", "start_local_backend"]
