"""tablesync.tablestore as a drop-in: a script written for the official
Tablestore SDK runs with only its import line and endpoint changed."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python" / "tablestore_compat.py"

# A script as a user of the official SDK writes it (against the cloud service).
SDK_SCRIPT = textwrap.dedent(
    '''
    # -*- coding: utf8 -*-
    from tablestore import *

    OTS_ENDPOINT = "https://my-instance.cn-hangzhou.ots.aliyuncs.com"
    OTS_ID = "LTAI-example"
    OTS_SECRET = "example-secret"
    OTS_INSTANCE = "my-instance"
    table_name = "python_sdk_demo"

    client = OTSClient(OTS_ENDPOINT, OTS_ID, OTS_SECRET, OTS_INSTANCE, logger_name="demo")

    try:
        client.delete_table(table_name)
    except OTSServiceError as e:
        print("delete_table: %s %d" % (e.get_error_code(), e.get_http_status()))

    table_meta = TableMeta(table_name, [("gid", "INTEGER"), ("uid", "INTEGER")])
    client.create_table(table_meta, TableOptions(), ReservedThroughput(CapacityUnit(0, 0)))

    for i in range(0, 10):
        primary_key = [("gid", i), ("uid", i + 1)]
        attribute_columns = [("name", "somebody" + str(i)), ("address", "somewhere" + str(i)), ("age", i)]
        consumed, return_row = client.put_row(table_name, Row(primary_key, attribute_columns),
                                              Condition(RowExistenceExpectation.EXPECT_NOT_EXIST))
    print("put: write CU %d" % consumed.write)

    primary_key = [("gid", 1), ("uid", 2)]
    update_of_attribute_columns = {
        "PUT": [("name", "David"), ("address", "Hongkong")],
        "DELETE_ALL": [("age")],
        "INCREMENT": [("counter", 3)],
    }
    condition = Condition(RowExistenceExpectation.EXPECT_EXIST,
                          SingleColumnCondition("age", 1, ComparatorType.EQUAL))
    consumed, return_row = client.update_row(table_name, Row(primary_key, update_of_attribute_columns), condition)

    # "age" is gone now: with pass_if_missing=False the condition fails.
    strict = Condition(RowExistenceExpectation.EXPECT_EXIST,
                       SingleColumnCondition("age", 1, ComparatorType.EQUAL, False))
    try:
        client.update_row(table_name, Row(primary_key, {"PUT": [("name", "X")]}), strict)
    except OTSServiceError as e:
        print("conditional update: %s %d" % (e.get_error_code(), e.get_http_status()))

    consumed, return_row, next_token = client.get_row(table_name, primary_key, ["name", "address", "age", "counter"], None, 1)
    print("get_row: %s" % sorted((name, value) for name, value, ts in return_row.attribute_columns))

    cond = CompositeColumnCondition(LogicalOperator.OR)
    cond.add_sub_condition(SingleColumnCondition("age", 2, ComparatorType.LESS_EQUAL))
    cond.add_sub_condition(SingleColumnCondition("age", 8, ComparatorType.GREATER_EQUAL))
    inclusive_start_primary_key = [("gid", INF_MIN), ("uid", INF_MIN)]
    exclusive_end_primary_key = [("gid", INF_MAX), ("uid", INF_MAX)]
    found = []
    consumed, next_start_primary_key, row_list, next_token = client.get_range(
        table_name, Direction.FORWARD, inclusive_start_primary_key, exclusive_end_primary_key,
        [], 3, column_filter=cond, max_version=1)
    found += [row.primary_key[0][1] for row in row_list]
    while next_start_primary_key is not None:
        consumed, next_start_primary_key, row_list, next_token = client.get_range(
            table_name, Direction.FORWARD, next_start_primary_key, exclusive_end_primary_key,
            [], 3, column_filter=cond, max_version=1)
        found += [row.primary_key[0][1] for row in row_list]
    print("get_range: %s" % found)

    request = BatchWriteRowRequest()
    request.add(TableInBatchWriteRowItem(table_name, [
        PutRowItem(Row([("gid", 0), ("uid", 1)], [("age", 100)]), Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)),
        DeleteRowItem(Row([("gid", 3), ("uid", 4)]), Condition(RowExistenceExpectation.IGNORE)),
    ]))
    result = client.batch_write_row(request)
    succ, fail = result.get_put()
    print("batch_write: all=%s put_fail=%s delete_ok=%d" % (
        result.is_all_succeed(), [f.error_code for f in fail], len(result.get_succeed_of_delete())))

    request = BatchGetRowRequest()
    request.add(TableInBatchGetRowItem(table_name, [[("gid", 3), ("uid", 4)], [("gid", 4), ("uid", 5)]], ["age"], None, 1))
    result = client.batch_get_row(request)
    print("batch_get: %s" % [None if item.row is None else item.row.attribute_columns[0][1]
                             for item in result.get_result_by_table(table_name)])

    print("describe: %s" % (client.describe_table(table_name).table_meta.schema_of_primary_key,))
    client.delete_table(table_name)
    print("list: %s" % (client.list_table(),))
    '''
)

EXPECTED = [
    "put: write CU 1",
    "conditional update: OTSConditionCheckFail 403",
    "get_row: [('address', 'Hongkong'), ('counter', 3), ('name', 'David')]",
    "get_range: [0, 1, 2, 8, 9]",
    "batch_write: all=False put_fail=['OTSConditionCheckFail'] delete_ok=1",
    "batch_get: [None, 4]",
    "describe: [('gid', 'INTEGER'), ('uid', 'INTEGER')]",
    "list: ()",
]


def port(script, endpoint):
    """The two-line change from the official SDK to tablesync."""
    lines = script.splitlines()
    changed = []
    for line in lines:
        if line == "from tablestore import *":
            line = "from tablesync.tablestore import *"
        elif line.startswith("OTS_ENDPOINT = "):
            line = "OTS_ENDPOINT = %r" % endpoint
        changed.append(line)
    assert sum(a != b for a, b in zip(lines, changed)) == 2
    return "\n".join(changed) + "\n"


def run(args, cwd):
    return subprocess.run([sys.executable] + args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_sdk_script_runs_with_only_import_and_endpoint_changed(tmp_path, kind):
    endpoint = "memory://sdk-script" if kind == "memory" else "file://" + str(tmp_path / "data")
    script = tmp_path / "sdk_script.py"
    script.write_text(port(SDK_SCRIPT, endpoint))
    proc = run([str(script)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "delete_table: OTSObjectNotExist 404"
    assert out[1:] == EXPECTED


def test_file_endpoint_keeps_data_between_processes(tmp_path):
    endpoint = "file://" + str(tmp_path / "data")
    write = tmp_path / "write.py"
    write.write_text(textwrap.dedent(
        """
        from tablesync.tablestore import *
        client = OTSClient(%r, "id", "secret", "inst")
        client.create_table(TableMeta("kv", [("k", "STRING")]), TableOptions(), ReservedThroughput(CapacityUnit(0, 0)))
        client.put_row("kv", Row([("k", "a")], [("v", 1)]))
        client.update_row("kv", Row([("k", "a")], {"INCREMENT": [("v", 41)]}), None)
        """ % endpoint))
    read = tmp_path / "read.py"
    read.write_text(textwrap.dedent(
        """
        from tablesync.tablestore import *
        client = OTSClient(%r, "id", "secret", "inst")
        consumed, row, token = client.get_row("kv", [("k", "a")])
        print(client.list_table(), row.attribute_columns[0][1])
        """ % endpoint))
    first = run([str(write)], tmp_path)
    assert first.returncode == 0, first.stderr
    second = run([str(read)], tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "('kv',) 42"


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_example_script_runs(tmp_path, kind):
    endpoint = "memory://example" if kind == "memory" else str(tmp_path / "example-data")
    proc = run([str(EXAMPLE), endpoint], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "Table orders created."
    assert sum(line.startswith("Put ") and line.endswith("consumed 1 write CU.") for line in out) == 4
    assert sum(line.endswith(" paid.") and "not" not in line for line in out) == 2
    assert any(line.endswith("not paid: OTSConditionCheckFail (HTTP 403).") for line in out)
    assert "Batch all succeed: False" in out
    assert "Batch puts: 3 succeeded, 0 failed." in out
    assert "Batch delete failed: OTSObjectNotExist" in out
    assert "Paid orders: 2, revenue 66.50" in out
    assert any(line.startswith("All orders: 7 ") for line in out)
    assert out[-5:] == ["Batch get: tea", "Batch get: coffee", "Batch get: missing row",
                        "Max versions: 2", "Tables left: ()"]
