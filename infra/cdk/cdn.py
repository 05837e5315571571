"""The CDN: a private S3 bucket behind CloudFront, with the cache rules of DESIGN §6.

- `rulesets/*/latest.json` (the pointer): cached 60 s at the edge; browsers get
  `max-age=60, stale-while-revalidate=86400, stale-if-error=604800`;
- `rulesets/*` (content-addressed artifacts) and `runtime/*`: cached a year, `immutable`;
- `perso.js`, `stub.js`: short cache, like the pointer;
- everything is read-only for browsers, with CORS for GET from any site;
- nothing else is served: the bucket also holds `sources/` (the YAML the publisher reads)
  and `rulesets/<site>/history/`, which are not public. A CloudFront Function on every
  behavior answers 404 to any path outside the public allow-list (CloudFront path
  patterns cannot say "one path segment"), and the default behavior only ever sees paths
  outside the explicit public patterns.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk import constants

__all__ = ["PUBLIC_PATH", "Cdn"]

# The public layout (lambdas/dal/cdn.py, infra/bundle.py). A JavaScript regex, run at the
# edge by `_GUARD_CODE`; sites are `[a-z0-9-]{1,64}`, artifacts named by their sha256.
PUBLIC_PATH = (
    r"^/(rulesets/[a-z0-9-]{1,64}/([0-9a-f]{64}\.msgpack|latest\.json)"
    r"|runtime/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*|perso\.js|stub\.js)$"
)
_JS_PATTERN = PUBLIC_PATH.replace("/", "\\/")  # inside a JavaScript /.../ literal
_GUARD_CODE = (
    "function handler(event) {\n"
    "  var uri = event.request.uri;\n"
    f"  if (/{_JS_PATTERN}/.test(uri) && uri.indexOf('/..') < 0) {{ return event.request; }}\n"
    "  return {statusCode: 404, statusDescription: 'Not Found'};\n"
    "}\n"
)


class Cdn(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.bucket = self._build_bucket()
        self.distribution = self._build_distribution(self.bucket)

    def _build_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,  # a pointer overwritten by mistake can still be recovered
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _build_distribution(self, bucket: s3.IBucket) -> cloudfront.Distribution:
        origin = origins.S3BucketOrigin.with_origin_access_control(bucket)
        self.guard = cloudfront.Function(
            self,
            "PublicPathsOnly",
            comment="perso: 404 for any path outside the public CDN layout",
            code=cloudfront.FunctionCode.from_inline(_GUARD_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        immutable = self._build_behavior(
            origin,
            "Immutable",
            cache=constants.ARTIFACT_CACHE_CONTROL,
            ttl=Duration.days(365),
            min_ttl=Duration.days(1),
        )
        pointer = self._build_behavior(
            origin,
            "Pointer",
            cache=constants.POINTER_CACHE_CONTROL,
            ttl=Duration.seconds(60),
            min_ttl=Duration.seconds(0),
        )
        return cloudfront.Distribution(
            self,
            "Distribution",
            comment="perso rulesets and runtime",
            # Reached only by paths outside the patterns below; the guard answers 404.
            default_behavior=pointer,
            additional_behaviors={
                "rulesets/*/latest.json": pointer,
                "rulesets/*.msgpack": immutable,
                "runtime/*": immutable,
                "perso.js": pointer,
                "stub.js": pointer,
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )

    def _build_behavior(
        self,
        origin: cloudfront.IOrigin,
        name: str,
        *,
        cache: str,
        ttl: Duration,
        min_ttl: Duration,
    ) -> cloudfront.BehaviorOptions:
        policy = cloudfront.CachePolicy(
            self,
            f"{name}CachePolicy",
            comment=f"perso {name.lower()} objects",
            default_ttl=ttl,
            max_ttl=ttl,
            min_ttl=min_ttl,
            enable_accept_encoding_brotli=True,
            enable_accept_encoding_gzip=True,
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            f"{name}Headers",
            comment=f"perso {name.lower()} cache and CORS headers",
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Cache-Control", value=cache, override=True
                    )
                ]
            ),
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=["*"],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_origins=["*"],
                origin_override=True,
            ),
        )
        return cloudfront.BehaviorOptions(
            origin=origin,
            cache_policy=policy,
            response_headers_policy=headers,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            compress=True,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=self.guard, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )
