"""`perso deploy` and `perso rollback`: publish a ruleset to the CDN, or point back.

Both talk to the stack's S3 bucket and CloudFront distribution: given with `--bucket` /
`--distribution`, or read from the CloudFormation outputs of `--stack` (fixed output ids
in infra/cdk/constants.py). `--endpoint-url` points every client at another endpoint
(moto's server in tests and locally).

    $ perso deploy examples/demo-shop.yaml --bucket perso-cdn
    published demo-shop version 3f2a... (2140 bytes): rulesets/demo-shop/latest.json
    $ perso rollback demo-shop --bucket perso-cdn --to 3f2a...
    rolled back demo-shop to version 3f2a...

Deploy compiles the file, keeps the learned params of the current artifact that still fit
(bandit weights of unchanged experiences, recommendation lists, segments), uploads the
source for the scheduled publisher, then the artifact, then the pointer; an unchanged
ruleset writes nothing. Every problem is one sentence and exit code 2.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edge.compiler import compile_file
from infra.cdk.constants import OUTPUT_BUCKET, OUTPUT_DISTRIBUTION
from infra.cli.errors import CommandError
from lambdas.logic.publish import PublishError, deploy_ruleset, rollback_site
from lambdas.models.cdn import pointer_key

if TYPE_CHECKING:
    from lambdas.dal.cdn import S3Cdn

__all__ = ["Target", "register", "resolve_target", "stack_outputs"]

_SITE = re.compile(r"[a-z0-9-]{1,64}")


@dataclass(frozen=True, slots=True)
class Target:
    bucket: str
    distribution: str | None
    endpoint_url: str | None
    region: str | None


def resolve_target(
    *,
    bucket: str | None,
    distribution: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> Target:
    """The bucket and distribution from the options, else from the stack's outputs."""
    if bucket:
        return Target(bucket, distribution, endpoint_url, region)
    if not stack:
        raise CommandError("give --bucket (and --distribution), or --stack to read them from.")
    outputs = stack_outputs(stack, endpoint_url=endpoint_url, region=region)
    if OUTPUT_BUCKET not in outputs:
        raise CommandError(f"stack {stack!r} has no output {OUTPUT_BUCKET}; is it the perso stack?")
    return Target(
        outputs[OUTPUT_BUCKET],
        distribution or outputs.get(OUTPUT_DISTRIBUTION),
        endpoint_url,
        region,
    )


# boto3 (and lambdas.dal, which imports it) takes most of a second to import: only deploy
# and rollback pay for it, so the functions below import it when they run.


def stack_outputs(stack: str, *, endpoint_url: str | None, region: str | None) -> dict[str, str]:
    """The CloudFormation outputs of `stack` (fixed ids in infra/cdk/constants.py)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("cloudformation", endpoint_url=endpoint_url, region_name=region)
    try:
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise CommandError(f"cannot read the outputs of stack {stack!r} ({exc}).") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def _cdn(target: Target) -> S3Cdn:
    from lambdas.dal.cdn import S3Cdn, make_cdn_clients

    s3, cloudfront = make_cdn_clients(target.endpoint_url, target.endpoint_url, target.region)
    return S3Cdn(s3, target.bucket, cloudfront=cloudfront, distribution_id=target.distribution)


BucketOpt = Annotated[str | None, typer.Option("--bucket", help="The CDN bucket.")]
DistributionOpt = Annotated[
    str | None, typer.Option("--distribution", help="CloudFront distribution id to invalidate.")
]
StackOpt = Annotated[
    str | None, typer.Option("--stack", help="Read bucket and distribution from this stack.")
]
EndpointOpt = Annotated[
    str | None, typer.Option("--endpoint-url", help="Another AWS endpoint (moto, local).")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def deploy(
    file: Annotated[Path, typer.Argument(help="The ruleset YAML file.")],
    bucket: BucketOpt = None,
    distribution: DistributionOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compile a ruleset and publish it: artifact first, pointer last, CDN invalidation."""
    from lambdas.dal.cdn import CdnUnavailable

    result = compile_file(file)
    if result.problems or result.ruleset is None:
        raise CommandError(*(str(p) for p in result.problems))
    target = resolve_target(
        bucket=bucket,
        distribution=distribution,
        stack=stack,
        endpoint_url=endpoint_url,
        region=region,
    )
    source = file.read_text(encoding="utf-8")
    try:
        outcome = deploy_ruleset(
            result.ruleset, cdn=_cdn(target), now=datetime.now(UTC), source=source
        )
    except (CdnUnavailable, PublishError) as exc:
        raise CommandError(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(outcome.to_dict(), sort_keys=True))
    elif outcome.changed:
        typer.echo(
            f"published {outcome.site} version {outcome.version} ({outcome.size} bytes): "
            f"{pointer_key(outcome.site)}"
        )
    else:
        typer.echo(f"{outcome.site} is unchanged (version {outcome.version}); nothing written")


def rollback(
    site: Annotated[str, typer.Argument(help="The site id.")],
    to: Annotated[
        str | None, typer.Option("--to", help="Version or sha256 (default: the previous one).")
    ] = None,
    bucket: BucketOpt = None,
    distribution: DistributionOpt = None,
    stack: StackOpt = None,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Point the site's latest.json back at an earlier artifact (a pointer write)."""
    from lambdas.dal.cdn import CdnUnavailable

    if not _SITE.fullmatch(site):
        raise CommandError(f"site {site!r} is not a site id (lowercase letters, digits, '-').")
    target = resolve_target(
        bucket=bucket,
        distribution=distribution,
        stack=stack,
        endpoint_url=endpoint_url,
        region=region,
    )
    try:
        outcome = rollback_site(site, cdn=_cdn(target), now=datetime.now(UTC), to=to)
    except (CdnUnavailable, PublishError) as exc:
        raise CommandError(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(outcome.to_dict(), sort_keys=True))
    elif outcome.changed:
        typer.echo(f"rolled back {site} to version {outcome.version}")
    else:
        typer.echo(f"{site} is already at version {outcome.version}; nothing written")


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("rollback")(rollback)
