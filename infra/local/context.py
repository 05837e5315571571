"""The Lambda context the local stack hands to the real handlers.

>>> LocalContext("collect").invoked_function_arn
'arn:aws:lambda:us-east-1:000000000000:function:collect'
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["LocalContext"]


@dataclass
class LocalContext:
    """The attributes of a Lambda context that Powertools and the handlers read."""

    function_name: str
    memory_limit_in_mb: int = 256
    timeout_ms: int = 30_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms
