"""The generated Python models against AWS's own examples and the wire conventions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from dagster_dms import models

SHARED_DIR = Path(
    os.environ.get("DAGSTER_DMS_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared")
)
EXAMPLES = SHARED_DIR / "reference" / "aws-dms-model" / "examples-1.json"


def _same(original: Any, back: Any, where: str) -> None:
    """Equal, except that ISO timestamps come back as epoch seconds."""
    if isinstance(original, dict):
        assert isinstance(back, dict), where
        assert original.keys() == back.keys(), where
        for key in original:
            _same(original[key], back[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert isinstance(back, list) and len(original) == len(back), where
        for i, (a, b) in enumerate(zip(original, back, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif original != back:
        assert models.parse_timestamp(original) == models.parse_timestamp(back), where


def test_every_modelled_example_round_trips() -> None:
    if not EXAMPLES.exists():
        pytest.skip(f"{EXAMPLES} not found (set DAGSTER_DMS_SHARED_DIR)")
    examples = json.loads(EXAMPLES.read_text())["examples"]
    checked = 0
    for operation, cases in examples.items():
        if operation not in models.DMS_OPERATIONS:
            continue
        input_shape, output_shape = models.DMS_OPERATIONS[operation]
        for case in cases:
            for shape, part in ((input_shape, "input"), (output_shape, "output")):
                if part in case:
                    _same(case[part], shape.from_api(case[part]).to_api(), f"{operation}.{part}")
                    checked += 1
    assert checked >= 30


def test_timestamps_are_aware_utc_and_epoch_on_the_wire() -> None:
    stats = models.ReplicationTaskStats.from_api(
        {"StartDate": 1481739943.25, "StopDate": "2016-12-14T20:25:43+02:00"}
    )
    assert stats.start_date == dt.datetime(2016, 12, 14, 18, 25, 43, 250000, tzinfo=dt.timezone.utc)
    assert stats.stop_date is not None and stats.stop_date.utcoffset() == dt.timedelta(0)
    assert stats.to_api() == {"StartDate": 1481739943.25, "StopDate": 1481739943}


def test_nested_shapes_unknown_keys_and_omitted_none() -> None:
    wire = {
        "ReplicationTasks": [
            {"ReplicationTaskArn": "arn:t", "ReplicationTaskStats": {"TablesLoaded": 3}, "New": 1}
        ],
        "Later": {"x": True},
    }
    response = models.DescribeReplicationTasksResponse.from_api(wire)
    assert response.replication_tasks is not None
    task = response.replication_tasks[0]
    assert task.replication_task_stats is not None
    assert task.replication_task_stats.tables_loaded == 3
    assert task.extra == {"New": 1}
    assert response.extra == {"Later": {"x": True}}
    assert response.marker is None
    assert response.to_api() == wire
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.status = "running"  # type: ignore[misc]


def test_type_mismatch_names_the_path() -> None:
    with pytest.raises(models.ModelError, match=r"ReplicationTasks\[0\]\.ReplicationTaskStats"):
        models.DescribeReplicationTasksResponse.from_api(
            {"ReplicationTasks": [{"ReplicationTaskStats": {"TablesLoaded": "3"}}]}
        )
    with pytest.raises(models.ModelError, match=r"Filters\[0\]\.Values"):
        models.DescribeReplicationTasksMessage.from_api({"Filters": [{"Name": "x"}]})


def test_sensitive_fields_stay_out_of_repr() -> None:
    message = models.CreateEndpointMessage.from_api(
        {
            "EndpointIdentifier": "src",
            "EndpointType": "source",
            "EngineName": "postgres",
            "Password": "hunter2",
            "PostgreSQLSettings": {"Password": "also-secret", "ServerName": "db"},
        }
    )
    assert "hunter2" not in repr(message)
    assert "also-secret" not in repr(message)
    assert message.password == "hunter2"
    assert message.to_api()["PostgreSQLSettings"]["Password"] == "also-secret"


def test_operation_tables_cover_every_service() -> None:
    assert len(models.DMS_OPERATIONS) == 29
    assert set(models.CLOUDWATCH_OPERATIONS) == {
        "GetMetricData",
        "GetMetricStatistics",
        "ListMetrics",
    }
    assert "GetLogEvents" in models.LOGS_OPERATIONS
