"""dms-local's fault injection (throttling, latency, 5xx) against independent and own clients.

The faults are set with the ``--fault-*`` flags or at runtime through the loopback-only admin
endpoint ``/_dms-local/faults``; its counters say how many faults each client met.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import botocore.exceptions
import pytest
from botocore.config import Config

from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import local_client
from dms_local_fixture import dms_local_fixture  # noqa: F401  (the fixture)


def boto3_dms(server: DmsLocalServer, max_attempts: int) -> Any:
    return local_client(
        server.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}),
    )


def test_flags_set_the_faults_and_the_admin_endpoint_reports_them(
    dms_local: DmsLocalServer,
) -> None:
    assert dms_local.faults() == {
        "latency_ms": 0,
        "throttle": False,
        "throttle_burst": 200.0,
        "throttle_refill_per_second": 8.0,
        "server_error_rate": 0.0,
        "cdc_apply_delay_ms": 0,
        "counters": {
            "requests": 0,
            "delayed": 0,
            "throttled": 0,
            "internal_failures": 0,
            "service_unavailable": 0,
            "cdc_commits_delayed": 0,
        },
    }
    dms_local.stop()
    dms_local.extra_args += [
        "--fault-latency-ms",
        "5",
        "--fault-throttle",
        "--fault-5xx-rate",
        "0.25",
        "--fault-cdc-apply-delay-ms",
        "1500",
    ]
    dms_local.start()
    document = dms_local.faults()
    assert (
        document["latency_ms"],
        document["throttle"],
        document["server_error_rate"],
        document["cdc_apply_delay_ms"],
    ) == (5, True, 0.25, 1500)
    # The AWS DMS bucket: a burst of 200, 8 more per second.
    assert (document["throttle_burst"], document["throttle_refill_per_second"]) == (200.0, 8.0)


def test_admin_endpoint_rejects_bad_settings_and_changes_nothing(dms_local: DmsLocalServer) -> None:
    for body in (b'{"latency_ms": -1}', b'{"password": "x"}', b"[1]", b"not json"):
        request = urllib.request.Request(
            f"{dms_local.url}/_dms-local/faults",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=10)
        assert raised.value.code == 400
        error = json.load(raised.value)
        assert error["__type"] in {"InvalidParameterValueException", "SerializationException"}
    assert dms_local.faults()["latency_ms"] == 0


def test_throttling_answers_the_dms_error_shape(dms_local: DmsLocalServer) -> None:
    dms_local.faults({"throttle": True, "throttle_burst": 2, "throttle_refill_per_second": 0.001})
    dms = boto3_dms(dms_local, max_attempts=1)
    dms.describe_account_attributes()
    dms.describe_account_attributes()
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        dms.describe_account_attributes()
    response = raised.value.response
    assert response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert dms_local.faults()["counters"]["throttled"] == 1
    # The health probe is not a DMS call: never throttled.
    with urllib.request.urlopen(f"{dms_local.url}/_dms-local/health", timeout=10) as health:
        assert health.status == 200


def test_boto3_standard_retries_survive_throttling(dms_local: DmsLocalServer) -> None:
    # A small bucket refilled slowly, so the test meets throttling however slow each request is
    # on a loaded machine (a fast refill let a slow machine never empty the bucket). A token
    # comes back every 0.5 s: standard mode's full-jitter backoff (up to 1, 2, 4, 8 s) waits that
    # long within its five attempts all but a few times in ten thousand.
    dms_local.faults({"throttle": True, "throttle_burst": 5, "throttle_refill_per_second": 2})
    dms = boto3_dms(dms_local, max_attempts=5)
    retries, calls = 0, 12
    for _ in range(calls):
        response = dms.describe_account_attributes()
        retries += response["ResponseMetadata"]["RetryAttempts"]
    counters = dms_local.faults()["counters"]
    assert counters["throttled"] > 0
    # Every throttle boto3 met, it retried: the server's count and the client's agree.
    assert retries == counters["throttled"]
    assert counters["requests"] == calls + retries


def test_latency_is_applied_to_every_signed_request(dms_local: DmsLocalServer) -> None:
    dms_local.faults({"latency_ms": 300})
    dms = boto3_dms(dms_local, max_attempts=1)
    started = time.monotonic()
    dms.describe_account_attributes()
    assert time.monotonic() - started >= 0.3
    dms_local.faults({"latency_ms": 0})
    started = time.monotonic()
    dms.describe_account_attributes()
    assert time.monotonic() - started < 0.3
    assert dms_local.faults()["counters"]["delayed"] == 1


def test_boto3_retries_5xx(dms_local: DmsLocalServer) -> None:
    # Seeded, so the same requests fail on every run.
    dms_local.faults({"server_error_rate": 0.3, "seed": 3})
    dms = boto3_dms(dms_local, max_attempts=10)
    retries, calls = 0, 12
    for _ in range(calls):
        retries += dms.describe_account_attributes()["ResponseMetadata"]["RetryAttempts"]
    counters = dms_local.faults()["counters"]
    failed = counters["internal_failures"] + counters["service_unavailable"]
    assert failed > 0 and retries == failed
    dms_local.faults({"server_error_rate": 1})
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        boto3_dms(dms_local, max_attempts=2).describe_account_attributes()
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) in {
        ("InternalFailure", 500),
        ("ServiceUnavailable", 503),
    }


def test_dms_client_retries_through_throttling(dms_local: DmsLocalServer) -> None:
    from dagster_dms import DmsClient

    dms_local.faults(
        {"throttle": True, "throttle_burst": 3, "throttle_refill_per_second": 20},
    )
    client = DmsClient(region_name="us-east-1", endpoint_url=dms_local.url, max_attempts=5)
    for _ in range(20):
        assert {q.account_quota_name for q in client.describe_account_attributes()} >= {
            "ReplicationTasks"
        }
    counters = dms_local.faults()["counters"]
    assert counters["throttled"] > 0
    assert counters["requests"] == 20 + counters["throttled"]
