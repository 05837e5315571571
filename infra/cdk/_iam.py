"""Least-privilege helpers: one role per function, explicit actions on explicit resources."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

__all__ = ["allow", "build_function_role"]


def build_function_role(scope: Construct, id: str, *, log_group: logs.ILogGroup) -> iam.Role:
    """A role Lambda can assume that may only write to its own log group."""
    role = iam.Role(
        scope,
        id,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"perso {id}: least privilege, one function",
    )
    allow(role, ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.log_group_arn])
    return role


def allow(role: iam.Role, actions: Sequence[str], resources: Sequence[str]) -> None:
    """Grant exactly `actions` on exactly `resources` (never a wildcard action)."""
    if any("*" in action for action in actions):
        raise ValueError(f"wildcard actions are not allowed: {list(actions)}")
    role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=list(resources)))
