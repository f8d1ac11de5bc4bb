"""The credential chain end to end: temp config files, environment variables, and loopback
stand-ins for STS, the container endpoint, IMDS and the SSO portal. Which source won is read from
the Credential= part of the Authorization header the DMS stand-in received."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential_endpoints import CredentialEndpoints
from dagster_dms import CredentialsError, DmsClient
from dagster_dms.errors import ConfigurationError
from fault_server import Fault, FaultServer


@pytest.fixture
def dms_endpoint(aws_env: Path) -> Iterator[FaultServer]:
    server = FaultServer(default=Fault("ok", body={"AccountQuotas": []}))
    server.url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def stand_ins(aws_env: Path) -> Iterator[tuple[CredentialEndpoints, str]]:
    endpoints = CredentialEndpoints()
    url = endpoints.start()
    yield endpoints, url
    endpoints.stop()


def key_used(server: FaultServer) -> str:
    authorization = server.requests[-1].headers["authorization"]
    match = re.search(r"Credential=([^/]+)/", authorization)
    assert match, authorization
    return match.group(1)


def call(server: FaultServer, **kwargs: object) -> DmsClient:
    client = DmsClient(region_name="us-east-1", endpoint_url=server.url, **kwargs)  # type: ignore[attr-defined,arg-type]
    client.describe_account_attributes()
    return client


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def clear_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)


def test_environment_keys(dms_endpoint: FaultServer) -> None:
    call(dms_endpoint)
    assert key_used(dms_endpoint) == "testing"


def test_explicit_keys_beat_the_environment(dms_endpoint: FaultServer) -> None:
    call(dms_endpoint, aws_access_key_id="AKIAEXPLICIT", aws_secret_access_key="s")
    assert key_used(dms_endpoint) == "AKIAEXPLICIT"


def test_a_named_profile_turns_the_environment_off(
    dms_endpoint: FaultServer, aws_env: Path
) -> None:
    write(
        aws_env / ".aws" / "credentials",
        "[analytics]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n",
    )
    client = call(dms_endpoint, profile_name="analytics")
    assert key_used(dms_endpoint) == "AKIAPROFILE"
    assert "profile-secret" not in repr(client)


def test_aws_profile_variable_keeps_environment_keys_first(
    dms_endpoint: FaultServer, aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        aws_env / ".aws" / "credentials",
        "[analytics]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = x\n",
    )
    monkeypatch.setenv("AWS_PROFILE", "analytics")
    call(dms_endpoint)
    assert key_used(dms_endpoint) == "testing"
    clear_env_keys(monkeypatch)
    call(dms_endpoint)
    assert key_used(dms_endpoint) == "AKIAPROFILE"


def test_unknown_profile_is_a_configuration_error(dms_endpoint: FaultServer) -> None:
    with pytest.raises(ConfigurationError, match="nope"):
        call(dms_endpoint, profile_name="nope")


def test_assume_role_with_source_profile(
    dms_endpoint: FaultServer,
    stand_ins: tuple[CredentialEndpoints, str],
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints, url = stand_ins
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)
    write(
        aws_env / ".aws" / "config",
        "[profile deployer]\nrole_arn = arn:aws:iam::123456789012:role/dms-operator\n"
        "source_profile = base\nrole_session_name = dagster\nexternal_id = ext-1\n",
    )
    write(
        aws_env / ".aws" / "credentials",
        "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n",
    )
    call(dms_endpoint, profile_name="deployer")
    assert key_used(dms_endpoint) == "ASIAASSUMED"
    assert dms_endpoint.requests[-1].headers["x-amz-security-token"] == "assumed-session"
    sts = endpoints.requests[0]
    assert sts.form["Action"] == ["AssumeRole"]
    assert sts.form["RoleArn"] == ["arn:aws:iam::123456789012:role/dms-operator"]
    assert sts.form["RoleSessionName"] == ["dagster"]
    assert sts.form["ExternalId"] == ["ext-1"]
    assert "Credential=AKIABASE/" in sts.headers["authorization"]


def test_credential_process(dms_endpoint: FaultServer, aws_env: Path, tmp_path: Path) -> None:
    script = tmp_path / "creds.sh"
    script.write_text(
        "#!/bin/sh\n"
        + "echo '"
        + json.dumps(
            {
                "Version": 1,
                "AccessKeyId": "AKIAPROCESS",
                "SecretAccessKey": "process-secret",
                "SessionToken": "process-session",
                "Expiration": "2099-01-01T00:00:00Z",
            }
        )
        + "'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    write(aws_env / ".aws" / "config", f"[profile tool]\ncredential_process = {script}\n")
    call(dms_endpoint, profile_name="tool")
    assert key_used(dms_endpoint) == "AKIAPROCESS"


def test_web_identity(
    dms_endpoint: FaultServer,
    stand_ins: tuple[CredentialEndpoints, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints, url = stand_ins
    clear_env_keys(monkeypatch)
    token_file = tmp_path / "token"
    token_file.write_text("web-identity-jwt")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/k8s")
    call(dms_endpoint)
    assert key_used(dms_endpoint) == "ASIAWEBIDENTITY"
    sts = endpoints.requests[0]
    assert sts.form["Action"] == ["AssumeRoleWithWebIdentity"]
    assert sts.form["WebIdentityToken"] == ["web-identity-jwt"]
    assert "authorization" not in sts.headers


def test_container_credentials_with_a_token_file(
    dms_endpoint: FaultServer,
    stand_ins: tuple[CredentialEndpoints, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints, url = stand_ins
    clear_env_keys(monkeypatch)
    token_file = tmp_path / "container-token"
    token_file.write_text(endpoints.container_token)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{url}/container")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
    call(dms_endpoint)
    assert key_used(dms_endpoint) == "ASIACONTAINER"


def test_imds_v2(
    dms_endpoint: FaultServer,
    stand_ins: tuple[CredentialEndpoints, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints, url = stand_ins
    clear_env_keys(monkeypatch)
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)
    call(dms_endpoint)
    assert key_used(dms_endpoint) == "ASIAIMDS"
    assert [r.method for r in endpoints.requests][:2] == ["PUT", "GET"]
    assert endpoints.requests[0].headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"


def test_sso_session_profile_uses_the_token_cache(
    dms_endpoint: FaultServer,
    stand_ins: tuple[CredentialEndpoints, str],
    aws_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoints, url = stand_ins
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", url)
    write(
        aws_env / ".aws" / "config",
        "[profile sso-user]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = DmsOperator\n\n"
        "[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n",
    )
    cache = aws_env / ".aws" / "sso" / "cache" / (hashlib.sha1(b"corp").hexdigest() + ".json")
    write(
        cache,
        json.dumps(
            {
                "accessToken": "sso-access-token",
                "expiresAt": "2099-01-01T00:00:00Z",
                "region": "us-east-1",
                "startUrl": "https://corp.awsapps.com/start",
            }
        ),
    )
    call(dms_endpoint, profile_name="sso-user")
    assert key_used(dms_endpoint) == "ASIASSO"
    portal = endpoints.requests[0]
    assert portal.form["role_name"] == ["DmsOperator"]
    assert portal.form["account_id"] == ["123456789012"]


def test_no_credentials_anywhere_says_what_to_do(
    dms_endpoint: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_env_keys(monkeypatch)
    with pytest.raises(CredentialsError, match="AWS_ACCESS_KEY_ID"):
        call(dms_endpoint)
    assert dms_endpoint.requests == []
