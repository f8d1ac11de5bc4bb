"""Least privilege on dms-local: key pairs limited to IAM actions, read by independent clients
(boto3, the AWS CLI, a signed query-protocol request), and the component with each action of the
README's IAM list removed in turn."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from dagster._core.definitions.observe import observe as dg_observe  # not re-exported by dagster

from dagster_dms import AWSDMSComponent
from dagster_dms.errors import DmsError
from dagster_dms.testing import DmsLocalServer
from dagster_dms.testing.account import (
    create_available_instance,
    create_cluster_endpoint,
    create_task,
    describe_task,
    local_client,
    selection_rules,
    wait_until,
)
from dms_local_fixture import DATA_PLANE_ARGS, FAST_ARGS, drop_databases
from pg_cluster import PgCluster, pg_cluster_fixture  # noqa: F401  (provides `pg_cluster`)

REGION = "us-east-1"
ACCOUNT = "000000000000"
AWS_CLI = "/usr/bin/aws" if Path("/usr/bin/aws").exists() else shutil.which("aws")
XMLNS = {"cw": "http://monitoring.amazonaws.com/doc/2010-08-01/"}

#: A key that may only read DMS resources and the task logs' events.
READER = {
    "access_key_id": "AKIDLPREADER",
    "secret_access_key": "reader-secret",
    "user_name": "dagster-reader",
    "actions": ["dms:Describe*", "logs:GetLogEvents"],
}
#: A key from a credentials file written before permissions existed: no "actions".
UNLIMITED = {"access_key_id": "AKIDLPOLDFILE", "secret_access_key": "old-secret"}
#: IAM wildcards: every DMS action, nothing of CloudWatch or Logs.
DMS_ONLY = {
    "access_key_id": "AKIDLPDMSONLY",
    "secret_access_key": "dms-secret",
    "actions": ["dms:*"],
}


def denial(user: str, action: str, resource: str) -> str:
    """AWS's wording of an identity-policy denial."""
    return (
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on "
        f"resource: {resource} because no identity-based policy allows the {action} action"
    )


def client_for(server: DmsLocalServer, service: str, key: dict[str, Any]) -> Any:
    return local_client(
        server.url,
        service,
        aws_access_key_id=key["access_key_id"],
        aws_secret_access_key=key["secret_access_key"],
    )


def error_of(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return str(error["Code"]), str(error["Message"]), int(status)


@contextlib.contextmanager
def running(server: DmsLocalServer) -> Iterator[DmsLocalServer]:
    """`server`, started; when the block ends it must exit cleanly."""
    server.start()
    try:
        yield server
    finally:
        assert server.stop() == 0, "dms-local did not exit cleanly on SIGTERM"


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmsLocalServer]:
    """A dms-local (hold executor, no database needed) that knows the three keys above."""
    root = tmp_path_factory.mktemp("permissions")
    keys = root / "keys.json"
    keys.write_text(json.dumps([READER, UNLIMITED, DMS_ONLY]))
    arguments = [*FAST_ARGS, "--test-executor", "hold", "--credentials-file", str(keys)]
    with running(DmsLocalServer(root / "state", extra_args=arguments)) as server:
        yield server


def test_boto3_sees_access_denied_worded_as_aws_words_it(
    limited_server: DmsLocalServer, aws_env: Path
) -> None:
    dms = client_for(limited_server, "dms", READER)
    # Allowed by dms:Describe*.
    assert dms.describe_replication_tasks()["ReplicationTasks"] == []
    task = f"arn:aws:dms:{REGION}:{ACCOUNT}:task:NOSUCHTASK"
    code, message, status = error_of(
        lambda: dms.start_replication_task(
            ReplicationTaskArn=task, StartReplicationTaskType="start-replication"
        )
    )
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == denial("dagster-reader", "dms:StartReplicationTask", task)
    attributes = dms.describe_account_attributes()  # dms:Describe* covers it
    assert attributes["ResponseMetadata"]["HTTPStatusCode"] == 200

    logs = client_for(limited_server, "logs", READER)
    code, message, _ = error_of(lambda: logs.describe_log_streams(logGroupName="dms-tasks-x"))
    assert code == "AccessDeniedException"
    assert message == denial(
        "dagster-reader",
        "logs:DescribeLogStreams",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:dms-tasks-x:log-stream:",
    )
    code, _, _ = error_of(
        lambda: logs.get_log_events(logGroupName="dms-tasks-x", logStreamName="dms-task-y")
    )
    assert code == "ResourceNotFoundException"  # allowed; the group just does not exist

    cloudwatch = client_for(limited_server, "cloudwatch", READER)
    code, message, status = error_of(lambda: cloudwatch.list_metrics(Namespace="AWS/DMS"))
    assert (code, status) == ("AccessDenied", 403)
    assert message == denial("dagster-reader", "cloudwatch:ListMetrics", "*")


def test_cloudwatch_query_protocol_answers_an_xml_access_denied(
    limited_server: DmsLocalServer, aws_env: Path
) -> None:
    body = urllib.parse.urlencode(
        {"Action": "ListMetrics", "Version": "2010-08-01", "Namespace": "AWS/DMS"}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method="POST", url=limited_server.url + "/", data=body, headers=headers)
    SigV4Auth(
        Credentials(READER["access_key_id"], READER["secret_access_key"]), "monitoring", REGION
    ).add_auth(request)
    answer = requests.post(
        limited_server.url + "/", data=body, headers=dict(request.headers), timeout=60
    )
    assert answer.status_code == 403, answer.text
    error = ET.fromstring(answer.text)
    assert error.findtext(".//cw:Type", namespaces=XMLNS) == "Sender"
    assert error.findtext(".//cw:Code", namespaces=XMLNS) == "AccessDenied"
    assert error.findtext(".//cw:Message", namespaces=XMLNS) == denial(
        "dagster-reader", "cloudwatch:ListMetrics", "*"
    )
    assert "reader-secret" not in answer.text


def test_wildcards_and_keys_without_actions(limited_server: DmsLocalServer, aws_env: Path) -> None:
    # dms:* allows every DMS action and nothing of another service.
    dms_only = client_for(limited_server, "dms", DMS_ONLY)
    assert dms_only.describe_account_attributes()["ResponseMetadata"]["HTTPStatusCode"] == 200
    code, message, _ = error_of(
        lambda: client_for(limited_server, "logs", DMS_ONLY).describe_log_groups()
    )
    assert code == "AccessDeniedException"
    # No "user_name": the user is named after the access key.
    assert message == denial("AKIDLPDMSONLY", "logs:DescribeLogGroups", "*")
    # An entry without "actions", and the default key, may call everything.
    for key in (UNLIMITED, {"access_key_id": "test", "secret_access_key": "test"}):
        for service, call in (
            ("logs", lambda c: c.describe_log_groups()),
            ("cloudwatch", lambda c: c.list_metrics(Namespace="AWS/DMS")),
            ("dms", lambda c: c.describe_account_attributes()),
        ):
            answer = call(client_for(limited_server, service, key))
            assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200, (key, service)


def aws_cli(
    server: DmsLocalServer, key: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    assert AWS_CLI is not None, "the AWS CLI is not installed: run `make bootstrap`"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": key["secret_access_key"],
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run(
        [AWS_CLI, *args, "--endpoint-url", server.url, "--region", REGION, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "action", "resource"),
    [
        (
            (
                "dms",
                "stop-replication-task",
                "--replication-task-arn",
                "arn:aws:dms:us-east-1:000000000000:task:T1",
            ),
            "dms:StopReplicationTask",
            "arn:aws:dms:us-east-1:000000000000:task:T1",
        ),
        (
            (
                "cloudwatch",
                "get-metric-statistics",
                "--namespace",
                "AWS/DMS",
                "--metric-name",
                "CDCLatencySource",
                "--start-time",
                "2026-01-01T00:00:00Z",
                "--end-time",
                "2026-01-01T01:00:00Z",
                "--period",
                "60",
                "--statistics",
                "Average",
            ),
            "cloudwatch:GetMetricStatistics",
            "*",
        ),
        (
            ("logs", "describe-log-streams", "--log-group-name", "dms-tasks-local"),
            "logs:DescribeLogStreams",
            "arn:aws:logs:us-east-1:000000000000:log-group:dms-tasks-local:log-stream:",
        ),
    ],
)
def test_aws_cli_reports_the_denial(
    limited_server: DmsLocalServer, aws_env: Path, args: tuple[str, ...], action: str, resource: str
) -> None:
    done = aws_cli(limited_server, READER, *args)
    assert done.returncode == 254, done.stderr
    assert "AccessDenied" in done.stderr
    assert denial("dagster-reader", action, resource) in done.stderr
    assert READER["secret_access_key"] not in done.stderr


# ---- the component with each action of the README's IAM list removed in turn ------------------

README = Path(__file__).resolve().parents[2] / "README.md"
PRODUCTION_DOC = README.parent / "docs" / "production.md"
TABLE_START = "<!-- least-privilege table: tests/python/test_least_privilege.py writes it -->"
TABLE_END = "<!-- end of the least-privilege table -->"
#: Set to rewrite the table in docs/production.md from this run's observations.
REWRITE_TABLE = os.environ.get("DMS_WRITE_LEAST_PRIVILEGE_TABLE") == "1"
SOURCE_DB = "least_privilege_source"
TARGET_DB = "least_privilege_target"
SOURCE_SQL = """
CREATE TABLE public.items (id int PRIMARY KEY, name text);
INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 20) AS g;
CREATE TABLE public.events (id int PRIMARY KEY, kind text);
INSERT INTO public.events SELECT g, 'event ' || g FROM generate_series(1, 20) AS g;
"""


def readme_iam_actions() -> list[str]:
    """Every action the README's "IAM permissions" table names, in its order."""
    section = README.read_text(encoding="utf-8").split("## IAM permissions", 1)[1]
    section = section.split("\n## ", 1)[0]
    actions: list[str] = []
    for line in section.splitlines():
        if "premigration" in line:
            # Needed by the premigration-assessment features only, which this matrix does not
            # run (tests/python/test_component_assessment.py covers them).
            continue
        for action in re.findall(r"`((?:dms|cloudwatch|logs):[A-Za-z]+)`", line):
            if action not in actions:
                actions.append(action)
    return actions


@dataclass
class Account:
    server: DmsLocalServer
    keys: dict[str, dict[str, Any]]  # removed action ("" for none) -> its key pair


def key_without(action: str, actions: list[str]) -> dict[str, Any]:
    name = action.replace(":", "-") if action else "all"
    return {
        "access_key_id": f"AKIDLEAST{actions.index(action) if action else 'ALL'}",
        "secret_access_key": f"secret-{name}",
        "user_name": f"without-{name}" if action else "least-privilege",
        "actions": [a for a in actions if a != action],
    }


@pytest.fixture(scope="module")
def account(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """One dms-local over real PostgreSQL that knows one key pair per removed action (and one with
    the README's whole list): a full-load task, a task that fails, and a CDC task kept running
    (its table can be reloaded and it has CDC metrics)."""
    root = tmp_path_factory.mktemp("least-privilege")
    actions = readme_iam_actions()
    keys = {action: key_without(action, actions) for action in ["", *actions]}
    assert len({k["access_key_id"] for k in keys.values()}) == len(keys)
    (root / "keys.json").write_text(json.dumps(list(keys.values())))
    pg_cluster.create_database(SOURCE_DB)
    pg_cluster.create_database(TARGET_DB)
    pg_cluster.psql(SOURCE_SQL, SOURCE_DB)
    arguments = [*DATA_PLANE_ARGS, "--credentials-file", str(root / "keys.json")]
    try:
        with running(DmsLocalServer(root / "state", extra_args=arguments)) as server:
            seed_account(local_client(server.url), pg_cluster)
            yield Account(server, keys)
    finally:
        drop_databases(pg_cluster, [SOURCE_DB, TARGET_DB])


def seed_account(dms: Any, cluster: PgCluster) -> None:
    """Endpoints, instance and tasks, tagged for the component's tag filter; lp-cdc is started
    with the default key and left running once its full load is done."""
    tags = [{"Key": "team", "Value": "data"}]
    source = create_cluster_endpoint(dms, "lp-source", "source", cluster, SOURCE_DB, Tags=tags)
    target = create_cluster_endpoint(dms, "lp-target", "target", cluster, TARGET_DB, Tags=tags)
    instance = create_available_instance(dms, "lp-instance", Tags=tags)
    settings = json.dumps({"Logging": {"EnableLogging": True}})
    for name, table, migration_type in (
        ("lp-load", "items", "full-load"),
        ("lp-broken", "no_such_table", "full-load"),
        ("lp-cdc", "events", "full-load-and-cdc"),
    ):
        arn = create_task(
            dms,
            name,
            source=source,
            target=target,
            instance=instance,
            table_mappings=selection_rules("public", table, rule_name=name),
            migration_type=migration_type,
            ReplicationTaskSettings=settings,
            Tags=tags,
        )
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")

    def caught_up() -> bool:
        task = describe_task(dms, arn)
        progress = task.get("ReplicationTaskStats", {}).get("FullLoadProgressPercent")
        return bool(task["Status"] == "running" and progress == 100)

    wait_until(caught_up, "the CDC task running after its full load")


#: What the test does with the component, in order; each step's outcome is "ok" or what went wrong.
STEPS = (
    "refresh and load",
    "full-load run",
    "failed run's report",
    "CDC run",
    "table reload",
    "endpoint observations",
    "instance observation",
)
NOT_REACHED = "not reached"
ARN = re.compile(r"arn:aws:[A-Za-z0-9:/_.*+=@-]+")
REQUEST_ID = re.compile(r",? request id [0-9a-z-]+")


@dataclass
class Observation:
    """What one key pair's user sees: each step's outcome, and every message shown to them."""

    outcomes: dict[str, str]
    told: list[tuple[str, str]]  # (where it is shown, the message)

    def naming(self, action: str) -> list[tuple[str, str]]:
        """The messages (one line each, ARNs and request ids masked) that name `action`."""
        found: list[tuple[str, str]] = []
        for where, text in self.told:
            for line in text.splitlines():
                if action in line:
                    shown = (where, REQUEST_ID.sub("", ARN.sub("<arn>", line.strip(" -"))))
                    if shown not in found:
                        found.append(shown)
        return found


def text_values(metadata: Mapping[str, Any]) -> list[str]:
    return [str(getattr(v, "value", v)) for v in metadata.values()]


def run_messages(
    instance: dg.DagsterInstance, result: Any, where: str
) -> tuple[list[tuple[str, str]], bool]:
    """The failure, metadata and warnings a run showed, and whether it succeeded."""
    told: list[tuple[str, str]] = []
    for failure in result.get_step_failure_events():
        data = failure.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            told.append((f"{where} fails", data.user_failure_data.description))
            continue
        # Not a dg.Failure but an exception escaping the asset: a stack trace, not a message.
        error, chain = data.error, []
        while error is not None:
            chain.append(error.message.strip())
            error = error.cause
        told.append((f"{where} crashes", "\n".join(chain)))
    for event in result.all_events:
        if event.event_type_value in ("ASSET_MATERIALIZATION", "ASSET_OBSERVATION"):
            specific = event.event_specific_data
            recorded = getattr(specific, "materialization", None) or specific.asset_observation
            told.extend((f"{where} metadata", t) for t in text_values(recorded.metadata))
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if not entry.is_dagster_event and entry.level >= logging.WARNING
    ]
    duplicated = {w for w in warnings if warnings.count(w) > 1}
    assert not duplicated, f"{where}: warned more than once: {duplicated}"
    told.extend((f"{where} log warning", w) for w in warnings)
    return told, bool(result.success)


def component_as(account: Account, action: str, **attributes: Any) -> AWSDMSComponent:
    """The component with the key pair lacking `action`."""
    key = account.keys[action]
    return AWSDMSComponent(
        aws_region=REGION,
        endpoint_url=account.server.url,
        aws_access_key_id=key["access_key_id"],
        aws_secret_access_key=key["secret_access_key"],
        **attributes,
    )


def observe_as(account: Account, action: str) -> Observation:
    """Refresh, load, materialize and observe with the key pair lacking `action`."""
    component = component_as(
        account,
        action,
        import_endpoints=True,
        import_replication_instances=True,
        import_tables=True,
        test_connections_on_observe=True,
        filter_by_tags="team",
        cdc_metrics_period_seconds=1,
    )
    outcomes = dict.fromkeys(STEPS, NOT_REACHED)
    told: list[tuple[str, str]] = []
    try:
        state = component.discover()
    except DmsError as error:
        outcomes["refresh and load"] = "fails"
        return Observation(outcomes, [("refresh and load fails", str(error))])
    told.extend(("refresh and load warning", w) for w in state.warnings)
    defs = component.build_defs_from_discovery(state)
    outcomes["refresh and load"] = "ok"
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    instance = dg.DagsterInstance.ephemeral()

    def materialize(step: str, key: dg.AssetKey) -> str:
        result = dg.materialize(assets, selection=[key], instance=instance, raise_on_error=False)
        messages, succeeded = run_messages(instance, result, step)
        told.extend(messages)
        if step == "failed run's report":
            # The task fails whatever the permissions; what changes is how it is explained.
            assert not succeeded
            report = "\n".join(m for w, m in messages if w.endswith("fails"))
            if "Last error lines of the task log" in report:
                return "ok"
            return "not started" if "could not be started" in report else "no task log quoted"
        return "ok" if succeeded else "fails"

    def observe(step: str, keys: list[dg.AssetKey]) -> str:
        chosen = [a for a in assets if set(a.keys) & set(keys)]
        result = dg_observe(chosen, instance=instance, raise_on_error=False)
        messages, succeeded = run_messages(instance, result, step)
        told.extend(messages)
        return "ok" if succeeded else "fails"

    outcomes["full-load run"] = materialize("full-load run", dg.AssetKey("dms_task_lp_load"))
    outcomes["failed run's report"] = materialize(
        "failed run's report", dg.AssetKey("dms_task_lp_broken")
    )
    outcomes["CDC run"] = materialize("CDC run", dg.AssetKey("dms_task_lp_cdc"))
    outcomes["table reload"] = materialize("table reload", dg.AssetKey(["public", "events"]))
    outcomes["endpoint observations"] = observe(
        "endpoint observations",
        [dg.AssetKey("dms_endpoint_lp_source"), dg.AssetKey("dms_endpoint_lp_target")],
    )
    outcomes["instance observation"] = observe(
        "instance observation", [dg.AssetKey("dms_instance_lp_instance")]
    )
    return Observation(outcomes, told)


def test_the_readme_list_is_enough_for_everything(account: Account) -> None:
    seen = observe_as(account, "")
    assert seen.outcomes == dict.fromkeys(STEPS, "ok"), seen.told
    denied = [
        (where, text)
        for where, text in seen.told
        if "AccessDenied" in text or "not allowed" in text or "grant " in text
    ]
    assert not denied


def check_names_the_action(action: str, seen: Observation) -> None:
    crashes = [(where, text) for where, text in seen.told if where.endswith("crashes")]
    assert not crashes, (action, crashes)
    named = seen.naming(action)
    for step, outcome in seen.outcomes.items():
        if outcome not in ("ok", NOT_REACHED):
            # Whatever stops working says which action would make it work.
            assert any(where.startswith(step) for where, _ in named), (action, step, seen.told)


#: The subject a log warning starts with ("lp-load: ", "endpoint lp-source: "): the same message
#: about two resources is one row of the table.
SUBJECT = re.compile(r"^(?:endpoint |instance )?lp-[a-z-]+: ")


def table_row(action: str, seen: Observation) -> str:
    broken = [
        f"{step}: {outcome}"
        for step, outcome in seen.outcomes.items()
        if outcome not in ("ok", NOT_REACHED)
    ]
    places: dict[str, list[str]] = {}
    for where, text in seen.naming(action):
        shown = places.setdefault(SUBJECT.sub("", text), [])
        if where not in shown:
            shown.append(where)
    told = "<br>".join(f"{', '.join(where)}: {text}" for text, where in places.items())
    return f"| `{action}` | {'; '.join(broken) or 'nothing'} | {told or '(nothing)'} |"


def least_privilege_table(observed: Mapping[str, Observation]) -> str:
    rows = [table_row(action, seen) for action, seen in observed.items()]
    return "\n".join(
        [
            "| action removed | what stops working | what the user is told |",
            "|---|---|---|",
            *rows,
        ]
    )


def test_each_action_of_the_readme_list_removed_in_turn(account: Account) -> None:
    observed = {action: observe_as(account, action) for action in readme_iam_actions()}
    for action, seen in observed.items():
        check_names_the_action(action, seen)
    table = least_privilege_table(observed)
    document = PRODUCTION_DOC.read_text(encoding="utf-8")
    before, rest = document.split(TABLE_START, 1)
    _, after = rest.split(TABLE_END, 1)
    if REWRITE_TABLE:
        PRODUCTION_DOC.write_text(
            f"{before}{TABLE_START}\n{table}\n{TABLE_END}{after}", encoding="utf-8"
        )
    written = rest.split(TABLE_END, 1)[0].strip()
    assert REWRITE_TABLE or written == table, (
        "docs/production.md's least-privilege table differs from what the component does; "
        "rewrite it with DMS_WRITE_LEAST_PRIVILEGE_TABLE=1 and review the change:\n" + table
    )


def test_tags_are_optional_without_a_tag_filter(account: Account) -> None:
    # The table above filters by tag, which needs dms:ListTagsForResource; without a filter the
    # tags only feed the translation, and the refresh goes on without them.
    component = component_as(account, "dms:ListTagsForResource", import_endpoints=True)
    state = component.discover()
    assert {t.identifier for t in state.tasks} == {"lp-load", "lp-broken", "lp-cdc"}
    assert {e.identifier for e in state.endpoints} == {"lp-source", "lp-target"}
    assert all(not t.tags for t in state.tasks)
    denied = [w for w in state.warnings if "dms:ListTagsForResource is not allowed" in w]
    assert [w.split(":", 1)[0] for w in denied] == ["tasks", "endpoints"], state.warnings
    defs = component.build_defs_from_discovery(state)
    assert defs.get_assets_def("dms_task_lp_load") is not None
