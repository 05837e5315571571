"""The event API: API Gateway HTTP API (v2) routes to collect, privacy, ingest and decide."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

__all__ = ["ROUTES", "EventApi"]

# (method, path) -> function name (DESIGN §8). OPTIONS answers CORS preflights in the
# handlers themselves, after the Origin is checked against the site's configuration.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/v1/events", "collect"),
    ("OPTIONS", "/v1/events", "collect"),
    ("GET", "/v1/visitors/me", "privacy"),
    ("DELETE", "/v1/visitors/me", "privacy"),
    ("OPTIONS", "/v1/visitors/me", "privacy"),
    ("POST", "/v1/ingest", "ingest"),
    ("POST", "/v1/decide", "decide"),
    ("OPTIONS", "/v1/decide", "decide"),
)


class EventApi(Construct):
    def __init__(
        self, scope: Construct, id: str, *, functions: Mapping[str, lambda_.IFunction]
    ) -> None:
        super().__init__(scope, id)
        self.api = apigw.HttpApi(self, "HttpApi", description="perso event API")
        self._build_routes(functions)
        self._build_throttling()

    def _build_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        made: dict[str, integrations.HttpLambdaIntegration] = {}
        for method, path, name in ROUTES:
            if name not in made:
                made[name] = integrations.HttpLambdaIntegration(
                    f"{name.title()}Integration", functions[name]
                )
            self.api.add_routes(
                path=path, methods=[apigw.HttpMethod(method)], integration=made[name]
            )

    def _build_throttling(self) -> None:
        # A ceiling against floods; the browser retries 429 with backoff (DESIGN §7).
        stage = self.api.default_stage
        if stage is not None:
            cfn = stage.node.default_child
            cfn.add_property_override("DefaultRouteSettings.ThrottlingBurstLimit", 2000)  # type: ignore[union-attr]
            cfn.add_property_override("DefaultRouteSettings.ThrottlingRateLimit", 1000)  # type: ignore[union-attr]
