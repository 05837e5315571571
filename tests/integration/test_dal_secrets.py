"""The token key from SSM Parameter Store and Secrets Manager (moto's server), through
Powertools Parameters, as the functions read it in AWS."""

from __future__ import annotations

import boto3
import pytest

from lambdas.dal.secrets import token_key
from lambdas.models.errors import StoreUnavailable
from lambdas.models.settings import Settings


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # botocore's per-service endpoint variables: Powertools builds its own clients.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    return moto_endpoint


def test_the_key_comes_from_an_ssm_secure_string(aws: str) -> None:
    ssm = boto3.client("ssm", endpoint_url=aws, region_name="us-east-1")
    ssm.put_parameter(Name="/perso/test/token-key", Value="k" * 40, Type="SecureString",
                      Overwrite=True)
    settings = Settings(table_name="perso", token_key_parameter="/perso/test/token-key")
    assert token_key(settings) == b"k" * 40


def test_the_key_comes_from_secrets_manager(aws: str) -> None:
    secrets = boto3.client("secretsmanager", endpoint_url=aws, region_name="us-east-1")
    secrets.create_secret(Name="perso-test-token-key", SecretString="s" * 40)
    settings = Settings(table_name="perso", token_key_secret="perso-test-token-key")
    assert token_key(settings) == b"s" * 40


def test_a_missing_parameter_is_store_unavailable(aws: str) -> None:
    settings = Settings(table_name="perso", token_key_parameter="/perso/test/missing")
    with pytest.raises(StoreUnavailable, match="token key could not be read"):
        token_key(settings)
