"""Where a publishing command writes: the running `perso dev`, or a deployed stack on AWS.

One place for `--target local|aws` (deploy, diff, history, rollback, pause, resume, report):

- `local`: the newest running `perso dev` (`infra.local.discovery.find`), its moto endpoint
  and bucket, with the local stand-in credentials; nothing else to give.
- `aws`: `--bucket` (and `--distribution`), or the outputs of `--stack` (fixed ids in
  infra/cdk/constants.py), with the caller's own credentials and region.

AWS credential and region problems become one sentence that names the fix (`aws_problem`).

>>> aws_problem(RuntimeError("boom")) is None
True
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infra.cdk.constants import OUTPUT_BUCKET, OUTPUT_DISTRIBUTION, OUTPUT_TABLE
from infra.cli.errors import CommandError
from infra.local.discovery import LOCAL_CREDENTIALS, DevEndpoints, find

if TYPE_CHECKING:
    from lambdas.dal.cdn import S3Cdn
    from lambdas.dal.store import Store

__all__ = [
    "Options",
    "Target",
    "Where",
    "aws_errors",
    "aws_problem",
    "make_cdn",
    "make_store",
    "resolve_target",
    "running_dev",
    "stack_outputs",
    "with_options",
]

_REFUSED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AccessDenied",
    "AccessDeniedException",
}


class Where(StrEnum):
    local = "local"
    aws = "aws"


@dataclass(frozen=True, slots=True)
class Target:
    bucket: str
    distribution: str | None
    endpoint_url: str | None
    region: str | None
    credentials: tuple[str, str] | None = None  # None: the caller's own (AWS)


@dataclass(frozen=True, slots=True)
class Options:
    """The shared options of a command (`with_options`); resolved on demand, so a command
    checks its own arguments first."""

    target: Where | None = None
    bucket: str | None = None
    distribution: str | None = None
    table: str | None = None
    stack: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    yes: bool = False
    as_json: bool = False

    def cdn(self) -> S3Cdn:
        """The CDN bucket of `--target` (credential and region problems as one sentence)."""
        with aws_errors():
            return make_cdn(
                resolve_target(
                    target=self.target,
                    bucket=self.bucket,
                    distribution=self.distribution,
                    stack=self.stack,
                    endpoint_url=self.endpoint_url,
                    region=self.region,
                )
            )

    def store(self) -> Store:
        """The perso table of `--target`."""
        return make_store(
            target=self.target,
            table=self.table,
            stack=self.stack,
            endpoint_url=self.endpoint_url,
            region=self.region,
        )


def option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """One shared Typer option, for `with_options`."""
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


TARGET_HELP = (
    "local: the running `perso dev`; aws: a deployed stack "
    "(default: aws with --bucket/--stack, else local)."
)
TargetOpt = Annotated[Where | None, typer.Option("--target", help=TARGET_HELP)]
BucketOpt = Annotated[str | None, typer.Option("--bucket", help="--target aws: the CDN bucket.")]
DistributionOpt = Annotated[
    str | None, typer.Option("--distribution", help="CloudFront distribution id to invalidate.")
]
EndpointOpt = Annotated[
    str | None, typer.Option("--endpoint-url", help="--target aws: another AWS endpoint.")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def with_options(
    *shared: inspect.Parameter,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Append the `shared` options to a command's own parameters; the command receives them
    as one `options: Options`."""

    def decorate(body: Callable[..., None]) -> Callable[..., None]:
        own = [
            p
            for p in inspect.signature(body, eval_str=True).parameters.values()
            if p.name != "options"
        ]

        @functools.wraps(body)
        def command(**kwargs: Any) -> None:
            options = Options(**{p.name: kwargs.pop(p.name) for p in shared})
            body(**kwargs, options=options)

        params = [*own, *shared]
        del command.__wrapped__  # Typer reads the signature below
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate


def running_dev() -> DevEndpoints:
    """The running `perso dev`, or a sentence saying how to start one."""
    running = find()
    if running is None:
        raise CommandError(
            "no running `perso dev` was found: start it in another terminal (`perso dev`), "
            "or use a deployed stack with --target aws --stack NAME."
        )
    return running


def resolve_target(
    *,
    target: Where | None = None,
    bucket: str | None,
    distribution: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> Target:
    """The bucket to write: `local` (also the default when no AWS option is given) or `aws`."""
    if target is None:
        target = Where.aws if (bucket or stack) else Where.local
    if target is Where.local:
        dev = running_dev()
        return Target(dev.bucket, None, dev.endpoint_url, dev.region, LOCAL_CREDENTIALS)
    if bucket:
        return Target(bucket, distribution, endpoint_url, region)
    if not stack:
        raise CommandError(
            "--target aws needs --stack NAME (or --bucket and --distribution) to know where "
            "to publish."
        )
    outputs = stack_outputs(stack, endpoint_url=endpoint_url, region=region)
    if OUTPUT_BUCKET not in outputs:
        raise CommandError(f"stack {stack!r} has no output {OUTPUT_BUCKET}; is it the perso stack?")
    return Target(
        outputs[OUTPUT_BUCKET],
        distribution or outputs.get(OUTPUT_DISTRIBUTION),
        endpoint_url,
        region,
    )


# boto3 takes most of a second to import: only the commands that talk to a bucket pay for it.


def stack_outputs(stack: str, *, endpoint_url: str | None, region: str | None) -> dict[str, str]:
    """The CloudFormation outputs of `stack` (fixed ids in infra/cdk/constants.py)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    with aws_errors():
        session = boto3.session.Session(region_name=region)  # not boto3's cached default
        client = session.client("cloudformation", endpoint_url=endpoint_url)
        try:
            stacks = client.describe_stacks(StackName=stack)["Stacks"]
        except (ClientError, BotoCoreError) as exc:
            if aws_problem(exc) is not None:
                raise
            raise CommandError(f"cannot read the outputs of stack {stack!r} ({exc}).") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def make_store(
    *,
    target: Where | None,
    table: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> Store:
    """The perso table of `perso dev` (local) or of a stack (`--table`, or `--stack` outputs)."""
    import boto3

    from lambdas.dal.store import Store

    if target is None:
        target = Where.aws if (table or stack) else Where.local
    options: dict[str, Any] = {}
    if target is Where.local:
        dev = running_dev()
        table, endpoint_url = dev.table, dev.endpoint_url
        options = {"region_name": dev.region}
        options["aws_access_key_id"], options["aws_secret_access_key"] = LOCAL_CREDENTIALS
    elif not table:
        if not stack:
            raise CommandError("--target aws needs --stack NAME (or --table) to find the table.")
        outputs = stack_outputs(stack, endpoint_url=endpoint_url, region=region)
        if OUTPUT_TABLE not in outputs:
            raise CommandError(
                f"stack {stack!r} has no output {OUTPUT_TABLE}; is it the perso stack?"
            )
        table = outputs[OUTPUT_TABLE]
    if region and target is Where.aws:
        options["region_name"] = region
    with aws_errors():
        client = boto3.session.Session(**options).client("dynamodb", endpoint_url=endpoint_url)
    return Store(client, table, attempts=2)


def make_cdn(target: Target) -> S3Cdn:
    """The CDN bucket (and distribution) of `target`."""
    import boto3
    from botocore.config import Config

    from lambdas.dal.cdn import S3Cdn

    options: dict[str, Any] = {}
    if target.region:
        options["region_name"] = target.region
    if target.credentials is not None:
        options["aws_access_key_id"], options["aws_secret_access_key"] = target.credentials
    session = boto3.session.Session(**options)
    region = session.region_name or "us-east-1"  # S3 and CloudFront answer from any region
    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard"})
    clients = {
        name: session.client(
            name, endpoint_url=target.endpoint_url, region_name=region, config=config
        )
        for name in ("s3", "cloudfront")
    }
    return S3Cdn(
        clients["s3"],
        target.bucket,
        cloudfront=clients["cloudfront"],
        distribution_id=target.distribution,
    )


def aws_problem(exc: BaseException) -> str | None:
    """A sentence naming the fix when `exc` (or what caused it) is a credential or region
    problem; None otherwise."""
    from botocore.exceptions import (
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        TokenRetrievalError,
    )

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NoRegionError):
            return (
                "no AWS region is set: pass --region REGION, or set AWS_REGION "
                "(or a region in `aws configure`)."
            )
        if isinstance(seen, (NoCredentialsError, PartialCredentialsError)):
            return (
                "no AWS credentials were found: run `aws configure` (or `aws sso login`), "
                "or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
            )
        if isinstance(seen, TokenRetrievalError):
            return "the AWS SSO session has expired: run `aws sso login` and try again."
        if isinstance(seen, ClientError):
            code = str(seen.response.get("Error", {}).get("Code", ""))
            if code in _REFUSED:
                return (
                    f"AWS refused the credentials ({code}): refresh them (`aws sso login`, "
                    "`aws configure`) or use a profile allowed to publish (AWS_PROFILE)."
                )
        seen = seen.__cause__
    return None


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """Turn credential and region problems raised inside the block into a `CommandError`."""
    try:
        yield
    except CommandError:
        raise
    except Exception as exc:
        sentence = aws_problem(exc)
        if sentence is None:
            raise
        raise CommandError(sentence) from exc
