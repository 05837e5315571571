"""The six Lambda functions, each with its own log group and least-privilege role."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.cdk import constants
from infra.cdk._iam import build_function_role

__all__ = ["Functions"]

_RUNTIME = lambda_.Runtime(constants.PYTHON_RUNTIME, lambda_.RuntimeFamily.PYTHON)
_ARCHITECTURE = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}[
    constants.ARCHITECTURE
]


class Functions(Construct):
    """`functions[name]` and `roles[name]` for every name in `constants.FUNCTIONS`."""

    def __init__(
        self, scope: Construct, id: str, *, code: lambda_.Code, environment: Mapping[str, str]
    ) -> None:
        super().__init__(scope, id)
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for name, (handler, timeout, memory) in constants.FUNCTIONS.items():
            self.functions[name] = self._build_function(
                name,
                handler=handler,
                timeout=timeout,
                memory=memory,
                code=code,
                environment=environment,
            )

    def _build_function(
        self,
        name: str,
        *,
        handler: str,
        timeout: int,
        memory: int,
        code: lambda_.Code,
        environment: Mapping[str, str],
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, f"{name.title()}Logs", retention=logs.RetentionDays.ONE_MONTH
        )
        role = build_function_role(self, f"{name.title()}Role", log_group=log_group)
        self.roles[name] = role
        return lambda_.Function(
            self,
            name.title(),
            runtime=_RUNTIME,
            architecture=_ARCHITECTURE,
            handler=handler,
            code=code,
            timeout=Duration.seconds(timeout),
            memory_size=memory,
            role=role,
            log_group=log_group,
            environment={**environment, "POWERTOOLS_SERVICE_NAME": f"perso-{name}"},
        )
