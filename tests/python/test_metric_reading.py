"""CloudWatch metrics through the core's least-privilege reader, as the component uses them:
moto holds the datapoints, a rewriting proxy in front of it takes permissions away."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from dagster_dms import DmsClient
from dagster_dms.component import cloudwatch
from rewriting_proxy import Rewrite, RewritingProxy, deny

if TYPE_CHECKING:
    from conftest import MotoServer

DIMENSIONS = {
    "ReplicationInstanceIdentifier": "ri-main",
    "ReplicationTaskIdentifier": "TASKRESOURCEID",
}


@pytest.fixture
def seeded_metrics(boto3_client: Callable[[str], Any]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    boto3_client("cloudwatch").put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {
                "MetricName": "CDCLatencySource",
                "Dimensions": [{"Name": k, "Value": v} for k, v in DIMENSIONS.items()],
                "Timestamp": now - dt.timedelta(seconds=seconds_ago),
                "Value": value,
            }
            for seconds_ago, value in ((600, 3.0), (300, 5.0), (90, 12.0))
        ],
    )


@pytest.fixture
def client_behind(moto: MotoServer) -> Iterator[Callable[[Rewrite], DmsClient]]:
    proxies: list[RewritingProxy] = []

    def make(rewrite: Rewrite) -> DmsClient:
        proxy = RewritingProxy(moto.url, rewrite)
        proxies.append(proxy)
        return DmsClient(region_name="us-east-1", endpoint_url=proxy.url)

    yield make
    for proxy in proxies:
        proxy.close()


QUERIES = [
    cloudwatch.MetricQuery("latency", "CDCLatencySource", DIMENSIONS),
    cloudwatch.MetricQuery("target", "CDCLatencyTarget", DIMENSIONS),
]


@pytest.mark.usefixtures("seeded_metrics")
def test_latest_values_come_from_one_batched_call(
    client_behind: Callable[[Rewrite], DmsClient],
) -> None:
    seen: list[str] = []

    def record(operation: str, request: dict[str, Any], document: dict[str, Any]) -> None:
        seen.append(operation)

    notes: list[str] = []
    values = cloudwatch.latest_values(client_behind(record), QUERIES, notes=notes)
    assert values == {"latency": 12.0}
    assert seen == ["GetMetricData"]
    assert notes == []


@pytest.mark.usefixtures("seeded_metrics")
def test_without_get_metric_data_each_metric_is_read_with_get_metric_statistics(
    client_behind: Callable[[Rewrite], DmsClient],
) -> None:
    seen: list[str] = []
    denied = deny("GetMetricData")

    def record(operation: str, request: dict[str, Any], document: dict[str, Any]) -> Any:
        seen.append(operation)
        return denied(operation, request, document)

    notes: list[str] = []
    values = cloudwatch.latest_values(client_behind(record), QUERIES, notes=notes)
    assert values == {"latency": 12.0}
    assert seen == ["GetMetricData", "GetMetricStatistics", "GetMetricStatistics"]
    assert len(notes) == 1
    assert "cloudwatch:GetMetricData" in notes[0]


@pytest.mark.usefixtures("seeded_metrics")
def test_without_either_permission_the_values_are_empty_and_the_note_says_why(
    client_behind: Callable[[Rewrite], DmsClient],
) -> None:
    notes: list[str] = []
    client = client_behind(deny("GetMetricData", "GetMetricStatistics"))
    assert cloudwatch.latest_values(client, QUERIES, notes=notes) == {}
    assert any("cloudwatch:GetMetricStatistics" in note for note in notes), notes


def test_the_reading_says_which_call_answered(
    client_behind: Callable[[Rewrite], DmsClient], seeded_metrics: None
) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    reading = client_behind(deny("GetMetricData")).read_metrics(
        [("latency", "CDCLatencySource", DIMENSIONS)], now - dt.timedelta(hours=1), now
    )
    assert reading.source == "GetMetricStatistics"
    assert [value for _, value in reading.series["latency"]] == [3.0, 5.0, 12.0]
