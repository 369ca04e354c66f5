"""tablesync.tablestore: clients, endpoints and table operations, used the
way the official Tablestore SDK documents them."""

import uuid

import pytest

from tablesync.tablestore import *  # noqa: F401,F403  (the SDK's documented import style)
from tablesync.tablestore import (
    CapacityUnit,
    DescribeTableResponse,
    OTSClient,
    OTSClientError,
    OTSServiceError,
    PK_AUTO_INCR,
    ReservedThroughput,
    SecondaryIndexMeta,
    TableMeta,
    TableOptions,
    UpdateTableResponse,
    drop_memory_instance,
)
from tablesync.tablestore.retry import (
    DefaultRetryPolicy,
    NoDelayRetryPolicy,
    NoRetryPolicy,
    RetryPolicy,
    WriteRetryPolicy,
)


@pytest.fixture
def endpoint():
    name = "tables-" + uuid.uuid4().hex
    yield "memory://" + name
    drop_memory_instance(name)


@pytest.fixture
def client(endpoint):
    c = OTSClient(endpoint, "id", "secret", "inst")
    yield c
    c.close()


def make_table(client, name="users", schema=None, options=None, cu=(0, 0)):
    schema = [("uid", "INTEGER")] if schema is None else schema
    client.create_table(
        TableMeta(name, schema),
        options or TableOptions(),
        ReservedThroughput(CapacityUnit(*cu)),
    )


# ---------------------------------------------------------------- constructor


@pytest.mark.parametrize(
    "args, message",
    [
        (("", "id", "secret", "inst"), "endpoint is None or empty."),
        (("memory://x", "", "secret", "inst"), "access_key_id is None or empty."),
        (("memory://x", "id", None, "inst"), "access_key_secret is None or empty."),
        (("memory://x", "id", "secret", ""), "instance_name is None or empty."),
    ],
)
def test_constructor_rejects_empty_credentials_like_the_sdk(args, message):
    with pytest.raises(OTSClientError) as e:
        OTSClient(*args)
    assert e.value.get_error_message() == message
    assert e.value.get_http_status() is None


def test_cloud_endpoints_are_refused():
    # http(s):// endpoints name a tablesync server (HOST:PORT; see test_tablestore_http.py).
    for ep, why in (("http://inst.cn-hangzhou.ots.aliyuncs.com", "HOST:PORT"),
                    ("https://inst.cn-hangzhou.ots.aliyuncs.com", "https://HOST:PORT")):
        with pytest.raises(OTSClientError, match=why):
            OTSClient(ep, "id", "secret", "inst")


@pytest.mark.parametrize("ep", ["ftp://host/x", "memory://", "file://otherhost/tmp/x", "file://relative"])
def test_malformed_endpoints_raise_client_errors(ep):
    with pytest.raises(OTSClientError):
        OTSClient(ep, "id", "secret", "inst")


def test_sdk_keyword_arguments_are_accepted(endpoint):
    policy = WriteRetryPolicy()
    c = OTSClient(
        endpoint, "id", "secret", "inst",
        retry_policy=policy, logger_name="my-app", socket_timeout=3, max_connection=8,
        sts_token="tok", encoding="utf8",
    )
    assert c.retry_policy is policy
    assert c.logger.name == "my-app"
    assert (c.socket_timeout, c.max_connection) == (3, 8)
    assert OTSClient(endpoint, "id", "secret", "inst").retry_policy.__class__ is DefaultRetryPolicy


def test_memory_endpoints_share_data_per_name_only(endpoint):
    a = OTSClient(endpoint, "id", "secret", "inst")
    b = OTSClient(endpoint, "other-id", "other-secret", "inst")
    make_table(a, "shared")
    assert b.list_table() == ("shared",)
    other = OTSClient("memory://" + uuid.uuid4().hex, "id", "secret", "inst")
    assert other.list_table() == ()


def test_file_endpoint_is_durable_across_clients(tmp_path):
    d = tmp_path / "db"
    c = OTSClient("file://" + str(d), "id", "secret", "inst")
    make_table(c, "durable")
    c.put_row("durable", Row([("uid", 7)], [("name", "Kim")]))
    c.close()
    # A plain path names the same directory; data survived the close.
    c2 = OTSClient(str(d), "id", "secret", "inst")
    assert c2.list_table() == ("durable",)
    _, row, _ = c2.get_row("durable", [("uid", 7)])
    assert row.attribute_columns[0][:2] == ("name", "Kim")
    c2.close()


def test_two_clients_of_one_directory_share_one_database(tmp_path):
    ep = "file://" + str(tmp_path / "db")
    a = OTSClient(ep, "id", "secret", "inst")
    b = OTSClient(ep, "id", "secret", "inst")
    make_table(a, "t")
    assert b.list_table() == ("t",)
    a.close()
    # b still works after a is closed: the database closes with the last client.
    b.put_row("t", Row([("uid", 1)], [("c", 1)]))
    b.close()
    with pytest.raises(OTSClientError, match="closed"):
        b.list_table()


def test_retry_policies_have_the_sdk_interface():
    err = OTSServiceError(503, "OTSServerBusy", "busy")
    assert DefaultRetryPolicy().should_retry(0, err, "PutRow")
    assert not DefaultRetryPolicy().should_retry(20, err, "PutRow")
    assert not NoRetryPolicy().should_retry(0, err, "GetRow")
    assert NoDelayRetryPolicy().get_retry_delay(3, err, "GetRow") == 0
    internal = OTSServiceError(500, "OTSInternalServerError", "boom")
    assert not DefaultRetryPolicy().should_retry(0, internal, "PutRow")
    assert WriteRetryPolicy().should_retry(0, internal, "PutRow")
    assert 0 < DefaultRetryPolicy().get_retry_delay(1, err, "GetRow") <= 3
    with pytest.raises(NotImplementedError):
        RetryPolicy().should_retry(0, err, "GetRow")


# --------------------------------------------------------------- create/list


def test_create_list_describe_delete(client):
    make_table(client, "users", [("gid", "INTEGER"), ("uid", "STRING")], TableOptions(-1, 3, 86400), (5, 7))
    make_table(client, "logs", [("id", "BINARY")])
    assert sorted(client.list_table()) == ["logs", "users"]
    assert isinstance(client.list_table(), tuple)

    d = client.describe_table("users")
    assert isinstance(d, DescribeTableResponse)
    assert d.table_meta.table_name == "users"
    assert d.table_meta.schema_of_primary_key == [("gid", "INTEGER"), ("uid", "STRING")]
    assert d.table_options.max_version == 3
    assert d.table_options.time_to_live == -1
    assert d.table_options.max_time_deviation == 86400
    assert d.table_options.allow_update is True
    cu = d.reserved_throughput_details.capacity_unit
    assert (cu.read, cu.write) == (5, 7)
    assert d.secondary_indexes == []
    assert d.request_id

    assert client.delete_table("logs") is None
    assert client.list_table() == ("users",)


def test_auto_increment_column_is_described(client):
    make_table(client, "orders", [("shop", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)])
    schema = client.describe_table("orders").table_meta.schema_of_primary_key
    assert schema == [("shop", "STRING"), ("id", "INTEGER", PK_AUTO_INCR)]
    assert schema[1][2] is PK_AUTO_INCR


def test_create_existing_table_is_409_and_missing_table_is_404(client):
    make_table(client, "t")
    with pytest.raises(OTSServiceError) as e:
        make_table(client, "t")
    assert e.value.get_error_code() == "OTSObjectAlreadyExist"
    assert e.value.get_http_status() == 409
    assert e.value.get_request_id()
    assert client.list_table().count("t") == 1

    for call in (lambda: client.describe_table("nope"), lambda: client.delete_table("nope"),
                 lambda: client.update_table("nope", TableOptions(max_version=2))):
        with pytest.raises(OTSServiceError) as e:
            call()
        assert (e.value.get_http_status(), e.value.get_error_code()) == (404, "OTSObjectNotExist")
        assert "ErrorCode: OTSObjectNotExist" in str(e.value)


def test_invalid_schemas_are_rejected(client):
    # What the SDK refuses before sending: client errors.
    with pytest.raises(OTSClientError, match="primary_key_type"):
        make_table(client, "t", [("uid", "FLOAT")])
    with pytest.raises(OTSClientError, match="should be tuple"):
        make_table(client, "t", [["uid", "INTEGER"]])
    with pytest.raises(OTSClientError, match="TableMeta"):
        client.create_table("t", TableOptions(), ReservedThroughput(CapacityUnit(0, 0)))
    with pytest.raises(OTSClientError, match="TableOptions"):
        client.create_table(TableMeta("t", [("a", "INTEGER")]), None, ReservedThroughput(CapacityUnit(0, 0)))
    with pytest.raises(OTSClientError, match="ReservedThroughput"):
        client.create_table(TableMeta("t", [("a", "INTEGER")]), TableOptions(), CapacityUnit(0, 0))
    with pytest.raises(OTSClientError, match="max_version should be an instance of int"):
        make_table(client, "t", options=TableOptions(max_version="3"))
    # What the service refuses: 400 OTSParameterInvalid.
    for schema in ([], [("a", "INTEGER")] * 2, [("k%d" % i, "INTEGER") for i in range(5)],
                   [("id", "INTEGER", PK_AUTO_INCR)], [("bad name", "STRING")]):
        with pytest.raises(OTSServiceError) as e:
            make_table(client, "t", schema)
        assert (e.value.get_http_status(), e.value.get_error_code()) == (400, "OTSParameterInvalid")
    with pytest.raises(OTSServiceError) as e:
        make_table(client, "t", options=TableOptions(time_to_live=60))
    assert e.value.get_error_code() == "OTSParameterInvalid"
    assert client.list_table() == ()


def test_secondary_indexes_are_refused_loudly(client):
    with pytest.raises(OTSClientError, match="secondary indexes"):
        client.create_table(
            TableMeta("t", [("a", "INTEGER")], [("c", "STRING")]),
            TableOptions(),
            ReservedThroughput(CapacityUnit(0, 0)),
            [SecondaryIndexMeta("idx", ["c"], [])],
        )
    assert client.list_table() == ()
    with pytest.raises(OTSClientError, match="not supported"):
        client.search("t", "idx", None)


def test_update_table_changes_options_and_throughput(client):
    make_table(client, "t", cu=(1, 1))
    r = client.update_table("t", TableOptions(time_to_live=86400 * 2, max_version=5, max_time_deviation=600))
    assert isinstance(r, UpdateTableResponse)
    assert (r.table_options.time_to_live, r.table_options.max_version) == (172800, 5)
    assert r.table_options.max_time_deviation == 600
    d = client.describe_table("t")
    assert (d.table_options.time_to_live, d.table_options.max_version, d.table_options.max_time_deviation) == (
        172800, 5, 600,
    )

    before = d.reserved_throughput_details.last_increase_time
    r = client.update_table("t", reserved_throughput=ReservedThroughput(CapacityUnit(0, 10)))
    cu = r.reserved_throughput_details.capacity_unit
    assert (cu.read, cu.write) == (0, 10)
    assert r.reserved_throughput_details.last_increase_time >= before
    assert r.reserved_throughput_details.last_decrease_time is not None

    with pytest.raises(OTSServiceError) as e:
        client.update_table("t", TableOptions(max_version=0))
    assert e.value.get_error_code() == "OTSParameterInvalid"
    assert client.describe_table("t").table_options.max_version == 5
    with pytest.raises(OTSClientError):
        client.update_table("t")


def test_from_database_shares_data_with_the_tablesync_api():
    import tablesync

    db = tablesync.Database.memory(region="r1")
    db.create_table("native", primary_key=[("k", "STRING")], max_versions=2)
    db.put_row("native", {"k": "a"}, {"v": b"\x01\x02", "n": 5})
    c = OTSClient.from_database(db)
    d = c.describe_table("native")
    assert d.table_meta.schema_of_primary_key == [("k", "STRING")]
    assert d.table_options.max_version == 2
    _, row, _ = c.get_row("native", [("k", "a")])
    assert row.attribute_columns[0][:2] == ("n", 5)
    assert row.attribute_columns[1][:2] == ("v", bytearray(b"\x01\x02"))
    c.put_row("native", Row([("k", "b")], [("v", bytearray(b"\x03"))]))
    assert db.get_row("native", {"k": "b"}).columns == {"v": b"\x03"}
    # Writes through the SDK surface land in tablesync's change log and digest.
    assert db.changes_since(0).records[-1]["table"] == "native"
    assert len(db.table_digest("native")) == 64
    c.close()
    assert db.list_tables() == ["native"]  # the caller's database stays open
    with pytest.raises(OTSClientError):
        OTSClient.from_database("not a database")


def test_endpoint_query_names_region_and_sync_policy(tmp_path):
    name = uuid.uuid4().hex
    c = OTSClient("memory://%s?region=west" % name, "id", "secret", "inst")
    assert c.database.region == "west"
    drop_memory_instance(name)
    d = OTSClient("file://%s?sync=never" % (tmp_path / "db"), "id", "secret", "inst")
    make_table(d, "t")
    d.close()
    with pytest.raises(OTSClientError, match="sync"):
        OTSClient("file://%s?sync=sometimes" % (tmp_path / "db2"), "id", "secret", "inst")
    # By default the region is the instance name.
    e = OTSClient("memory://" + uuid.uuid4().hex, "id", "secret", "eu-instance")
    assert e.database.region == "eu-instance"


def test_star_import_offers_the_sdk_names():
    import tablesync.tablestore as ts

    sdk_names = [
        "OTSClient", "INF_MIN", "INF_MAX", "PK_AUTO_INCR", "TableMeta", "TableOptions", "CapacityUnit",
        "ReservedThroughput", "ReservedThroughputDetails", "ColumnType", "ReturnType", "Column", "Direction",
        "UpdateTableResponse", "DescribeTableResponse", "RowDataItem", "Condition", "Row", "RowItem",
        "PutRowItem", "UpdateRowItem", "DeleteRowItem", "BatchGetRowRequest", "TableInBatchGetRowItem",
        "BatchGetRowResponse", "BatchWriteRowType", "BatchWriteRowRequest", "TableInBatchWriteRowItem",
        "BatchWriteRowResponse", "BatchWriteRowResponseItem", "OTSClientError", "OTSServiceError",
        "DefaultRetryPolicy", "LogicalOperator", "ComparatorType", "ColumnConditionType", "ColumnCondition",
        "CompositeColumnCondition", "SingleColumnCondition", "RowExistenceExpectation", "NoRetryPolicy",
        "NoDelayRetryPolicy", "WriteRetryPolicy", "RetryPolicy", "UpdateType", "SecondaryIndexMeta",
    ]
    missing = [n for n in sdk_names if n not in ts.__all__ or not hasattr(ts, n)]
    assert missing == []
    namespace = {}
    exec("from tablesync.tablestore import *", namespace)
    assert all(n in namespace for n in sdk_names)
    # The SDK's module layout is mirrored too.
    from tablesync.tablestore.client import OTSClient as C
    from tablesync.tablestore.error import OTSServiceError as E
    from tablesync.tablestore.metadata import Row as R

    assert (C, E, R) == (ts.OTSClient, ts.OTSServiceError, ts.Row)
