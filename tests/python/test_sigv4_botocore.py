"""Our SigV4 signer against botocore's SigV4Auth, byte for byte, on generated requests."""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import Any
from unittest import mock
from urllib.parse import quote

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dagster_dms import _native

REQUEST_COUNT = 600
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "sa-east-1"]
SERVICES = ["dms", "monitoring", "logs", "sts", "execute-api", "service"]
PATH_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@ %é"
QUERY_CHARS = string.ascii_letters + string.digits + "-._~ +/=&%é"
HEADER_VALUE_CHARS = string.ascii_letters + string.digits + " ,;:/=-_.\"'"


def _random_text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _generate_request(rng: random.Random) -> dict[str, Any]:
    segments = [_random_text(rng, PATH_CHARS, 0, 8) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.2:
        segments.insert(rng.randint(0, len(segments)), rng.choice([".", ".."]))
    path = "/" + "/".join(quote(s, safe="-._~") for s in segments)
    query_items = [
        (
            quote(_random_text(rng, QUERY_CHARS, 1, 6), safe="-._~"),
            quote(_random_text(rng, QUERY_CHARS, 0, 6), safe="-._~"),
        )
        for _ in range(rng.randint(0, 4))
    ]
    query = "&".join(f"{k}={v}" for k, v in query_items)
    host = rng.choice(
        ["dms.us-east-1.amazonaws.com", "127.0.0.1:4566", "localhost:8080", "example.com"]
    )
    url = f"{rng.choice(['http', 'https'])}://{host}{path}" + (f"?{query}" if query else "")
    headers = [("Content-Type", "application/x-amz-json-1.1")]
    if rng.random() < 0.8:
        headers.append(("X-Amz-Target", "AmazonDMSv20160101.DescribeReplicationTasks"))
    for _ in range(rng.randint(0, 4)):
        name = "X-Test-" + _random_text(rng, string.ascii_letters, 1, 6)
        value = _random_text(rng, HEADER_VALUE_CHARS, 0, 20)
        if rng.random() < 0.3:
            value = f"  {value}  "
        headers.append((name, value))
    if rng.random() < 0.2:
        headers.append(("User-Agent", "dagster-dms/test"))
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
    if rng.random() < 0.5:
        body = b'{"Filters":[{"Name":"replication-task-id","Values":["a"]}]}'
    return {
        "method": rng.choice(["GET", "POST", "PUT", "DELETE"]),
        "url": url,
        "headers": headers,
        "body": body,
        "region": rng.choice(REGIONS),
        "service": rng.choice(SERVICES),
        "access_key": "AKID" + _random_text(rng, string.ascii_uppercase + string.digits, 16, 16),
        "secret_key": _random_text(rng, string.ascii_letters + string.digits + "/+", 40, 40),
        "token": (
            _random_text(rng, string.ascii_letters + string.digits + "/+=", 20, 200)
            if rng.random() < 0.5
            else None
        ),
        "time": dt.datetime(2015, 1, 1, tzinfo=dt.timezone.utc)
        + dt.timedelta(seconds=rng.randint(0, 400_000_000)),
    }


def _botocore_sign(case: dict[str, Any]) -> dict[str, str]:
    request = AWSRequest(
        method=case["method"], url=case["url"], data=case["body"], headers=dict(case["headers"])
    )
    credentials = Credentials(case["access_key"], case["secret_key"], case["token"])
    signer = botocore.auth.SigV4Auth(credentials, case["service"], case["region"])
    fixed_time = case["time"]
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=fixed_time):
        signer.add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


def _our_sign(case: dict[str, Any]) -> dict[str, str]:
    result = _native.sigv4_sign(
        case["method"],
        case["url"],
        case["headers"],
        case["body"],
        case["region"],
        case["service"],
        case["access_key"],
        case["secret_key"],
        case["token"],
        case["time"].timestamp(),
    )
    headers = result["headers"]
    assert isinstance(headers, list)
    return {str(name).lower(): str(value) for name, value in headers}


CASES = [_generate_request(random.Random(seed)) for seed in range(REQUEST_COUNT)]


@pytest.mark.parametrize("case", CASES, ids=[f"req{i}" for i in range(REQUEST_COUNT)])
def test_signature_matches_botocore(case: dict[str, Any]) -> None:
    expected = _botocore_sign(case)
    ours = _our_sign(case)
    assert ours["authorization"] == expected["authorization"], case["url"]
    assert ours["x-amz-date"] == expected["x-amz-date"]
    if case["token"]:
        assert ours["x-amz-security-token"] == case["token"]
    else:
        assert "x-amz-security-token" not in ours


def test_the_generated_requests_are_varied() -> None:
    assert len({c["region"] for c in CASES}) == len(REGIONS)
    assert len({c["service"] for c in CASES}) == len(SERVICES)
    assert sum(1 for c in CASES if c["token"]) > REQUEST_COUNT // 4
    assert sum(1 for c in CASES if "?" in c["url"]) > REQUEST_COUNT // 4
