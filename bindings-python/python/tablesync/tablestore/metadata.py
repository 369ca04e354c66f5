"""Request and response types of the Tablestore wide-column API.

Same names, constructor arguments and attributes as ``tablestore.metadata``
in the official Alibaba Cloud Tablestore Python SDK, so scripts written for
that SDK build their requests and read their results unchanged.
"""

from .error import OTSClientError

__all__ = [
    "INF_MIN",
    "INF_MAX",
    "PK_AUTO_INCR",
    "TableMeta",
    "TableOptions",
    "CapacityUnit",
    "ReservedThroughput",
    "ReservedThroughputDetails",
    "DefinedColumnSchema",
    "SecondaryIndexType",
    "SecondaryIndexMeta",
    "ColumnType",
    "ReturnType",
    "Column",
    "Direction",
    "UpdateType",
    "CommonResponse",
    "UpdateTableResponse",
    "DescribeTableResponse",
    "RowDataItem",
    "LogicalOperator",
    "ComparatorType",
    "ColumnConditionType",
    "ColumnCondition",
    "CompositeColumnCondition",
    "SingleColumnCondition",
    "RowExistenceExpectation",
    "Condition",
    "Row",
    "RowItem",
    "PutRowItem",
    "UpdateRowItem",
    "DeleteRowItem",
    "TableInBatchGetRowItem",
    "BatchGetRowRequest",
    "BatchGetRowResponse",
    "BatchWriteRowType",
    "TableInBatchWriteRowItem",
    "BatchWriteRowRequest",
    "BatchWriteRowResponse",
    "BatchWriteRowResponseItem",
]


# --------------------------------------------------------------------------
# Sentinels used as primary-key values


class INF_MIN(object):
    """Smaller than every value of a primary-key column (range reads)."""


class INF_MAX(object):
    """Larger than every value of a primary-key column (range reads)."""


class PK_AUTO_INCR(object):
    """In a schema: the column is auto-increment. In a put: assign the value."""


# --------------------------------------------------------------------------
# Tables


class TableMeta(object):
    """A table's name and primary-key schema, e.g.
    ``TableMeta('t', [('uid', 'INTEGER'), ('id', 'INTEGER', PK_AUTO_INCR)])``."""

    def __init__(self, table_name, schema_of_primary_key, defined_columns=None):
        self.table_name = table_name
        self.schema_of_primary_key = schema_of_primary_key
        self.defined_columns = [] if defined_columns is None else defined_columns

    def __repr__(self):
        return "TableMeta(%r, %r)" % (self.table_name, self.schema_of_primary_key)


class TableOptions(object):
    """Table options: ``time_to_live`` (seconds, -1 forever), ``max_version``,
    ``max_time_deviation`` (seconds an explicit cell timestamp may differ from
    now) and ``allow_update`` (whether UpdateRow is allowed)."""

    def __init__(self, time_to_live=-1, max_version=1, max_time_deviation=86400, allow_update=None):
        self.time_to_live = time_to_live
        self.max_version = max_version
        self.max_time_deviation = max_time_deviation
        self.allow_update = allow_update

    def __repr__(self):
        return "TableOptions(time_to_live=%r, max_version=%r, max_time_deviation=%r, allow_update=%r)" % (
            self.time_to_live,
            self.max_version,
            self.max_time_deviation,
            self.allow_update,
        )


class CapacityUnit(object):
    """Read and write capacity units (consumed by a request, or reserved)."""

    def __init__(self, read=0, write=0):
        self.read = read
        self.write = write

    def __repr__(self):
        return "CapacityUnit(read=%r, write=%r)" % (self.read, self.write)


class ReservedThroughput(object):
    """Reserved read/write throughput of a table."""

    def __init__(self, capacity_unit):
        self.capacity_unit = capacity_unit


class ReservedThroughputDetails(object):
    """Reserved throughput as DescribeTable/UpdateTable report it."""

    def __init__(self, capacity_unit, last_increase_time, last_decrease_time):
        self.capacity_unit = capacity_unit
        self.last_increase_time = last_increase_time
        self.last_decrease_time = last_decrease_time


class DefinedColumnSchema(object):
    """A predefined attribute column (used by secondary indexes)."""

    def __init__(self, name, column_type):
        self.name = name
        self.column_type = column_type


class SecondaryIndexType(object):
    """Kinds of secondary index."""

    GLOBAL_INDEX = 0
    LOCAL_INDEX = 1


class SecondaryIndexMeta(object):
    """A secondary index definition (not supported by local endpoints)."""

    def __init__(self, index_name, primary_key_names, defined_column_names, index_type=SecondaryIndexType.GLOBAL_INDEX):
        self.index_name = index_name
        self.primary_key_names = primary_key_names
        self.defined_column_names = defined_column_names
        self.index_type = index_type


class ColumnType(object):
    """Names of value types."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    BOOLEAN = "BOOLEAN"
    DOUBLE = "DOUBLE"
    BINARY = "BINARY"
    INF_MIN = "INF_MIN"
    INF_MAX = "INF_MAX"


class ReturnType(object):
    """What a write returns: nothing, or the primary key (auto-increment)."""

    RT_NONE = "RT_NONE"
    RT_PK = "RT_PK"


class Column(object):
    """A named value with an optional timestamp."""

    def __init__(self, name, value=None, timestamp=None):
        self.name = name
        self.value = value
        self.timestamp = timestamp

    def set_timestamp(self, timestamp):
        self.timestamp = timestamp

    def get_name(self):
        return self.name

    def get_value(self):
        return self.value

    def get_timestamp(self):
        return self.timestamp


class Direction(object):
    """Direction of a range read."""

    FORWARD = "FORWARD"
    BACKWARD = "BACKWARD"


class UpdateType(object):
    """Kinds of column change in an UpdateRow (the keys of its dict)."""

    PUT = "PUT"
    DELETE = "DELETE"
    DELETE_ALL = "DELETE_ALL"
    INCREMENT = "INCREMENT"


# --------------------------------------------------------------------------
# Responses of table operations


class CommonResponse(object):
    """Base of responses that carry a request id."""

    def __init__(self):
        self.request_id = ""

    def set_request_id(self, request_id):
        self.request_id = request_id


class UpdateTableResponse(CommonResponse):
    """Result of ``update_table``."""

    def __init__(self, reserved_throughput_details, table_options):
        CommonResponse.__init__(self)
        self.reserved_throughput_details = reserved_throughput_details
        self.table_options = table_options


class DescribeTableResponse(CommonResponse):
    """Result of ``describe_table``."""

    def __init__(self, table_meta, table_options, reserved_throughput_details, secondary_indexes=None):
        CommonResponse.__init__(self)
        self.table_meta = table_meta
        self.table_options = table_options
        self.reserved_throughput_details = reserved_throughput_details
        self.secondary_indexes = [] if secondary_indexes is None else secondary_indexes


# --------------------------------------------------------------------------
# Conditions and filters


class LogicalOperator(object):
    """Combinators of a :class:`CompositeColumnCondition`."""

    NOT = 0
    AND = 1
    OR = 2

    __values__ = [NOT, AND, OR]
    __members__ = ["LogicalOperator.NOT", "LogicalOperator.AND", "LogicalOperator.OR"]


class ComparatorType(object):
    """Comparison operators of a :class:`SingleColumnCondition`."""

    EQUAL = 0
    NOT_EQUAL = 1
    GREATER_THAN = 2
    GREATER_EQUAL = 3
    LESS_THAN = 4
    LESS_EQUAL = 5

    __values__ = [EQUAL, NOT_EQUAL, GREATER_THAN, GREATER_EQUAL, LESS_THAN, LESS_EQUAL]
    __members__ = [
        "ComparatorType.EQUAL",
        "ComparatorType.NOT_EQUAL",
        "ComparatorType.GREATER_THAN",
        "ComparatorType.GREATER_EQUAL",
        "ComparatorType.LESS_THAN",
        "ComparatorType.LESS_EQUAL",
    ]


class ColumnConditionType(object):
    """Kinds of column condition."""

    COMPOSITE_COLUMN_CONDITION = 0
    SINGLE_COLUMN_CONDITION = 1


class ColumnCondition(object):
    """Base class of column conditions and filters."""

    def get_type(self):
        raise NotImplementedError()


class CompositeColumnCondition(ColumnCondition):
    """Sub-conditions combined with NOT (exactly one), AND or OR."""

    def __init__(self, combinator):
        self.sub_conditions = []
        self.set_combinator(combinator)

    def get_type(self):
        return ColumnConditionType.COMPOSITE_COLUMN_CONDITION

    def set_combinator(self, combinator):
        if isinstance(combinator, bool) or combinator not in LogicalOperator.__values__:
            raise OTSClientError(
                "Expect input combinator should be one of %s, but '%s'"
                % (str(LogicalOperator.__members__), combinator)
            )
        self.combinator = combinator

    def get_combinator(self):
        return self.combinator

    def add_sub_condition(self, condition):
        if not isinstance(condition, ColumnCondition):
            raise OTSClientError(
                "The input condition should be an instance of ColumnCondition, not %s"
                % condition.__class__.__name__
            )
        self.sub_conditions.append(condition)

    def clear_sub_condition(self):
        self.sub_conditions = []

    def __repr__(self):
        return "CompositeColumnCondition(%s, %r)" % (
            LogicalOperator.__members__[self.combinator],
            self.sub_conditions,
        )


class SingleColumnCondition(ColumnCondition):
    """Compare one column with a value. ``pass_if_missing``: result when the
    column is absent; ``latest_version_only``: compare only the newest
    version (else any version may match)."""

    def __init__(self, column_name, column_value, comparator, pass_if_missing=True, latest_version_only=True):
        self.column_name = column_name
        self.column_value = column_value
        self.comparator = None
        self.pass_if_missing = None
        self.latest_version_only = None
        self.set_comparator(comparator)
        self.set_pass_if_missing(pass_if_missing)
        self.set_latest_version_only(latest_version_only)

    def get_type(self):
        return ColumnConditionType.SINGLE_COLUMN_CONDITION

    def set_pass_if_missing(self, pass_if_missing):
        if not isinstance(pass_if_missing, bool):
            raise OTSClientError(
                "The input pass_if_missing of SingleColumnCondition should be an instance of Bool, not %s"
                % pass_if_missing.__class__.__name__
            )
        self.pass_if_missing = pass_if_missing

    def get_pass_if_missing(self):
        return self.pass_if_missing

    def set_latest_version_only(self, latest_version_only):
        if not isinstance(latest_version_only, bool):
            raise OTSClientError(
                "The input latest_version_only of SingleColumnCondition should be an instance of Bool, not %s"
                % latest_version_only.__class__.__name__
            )
        self.latest_version_only = latest_version_only

    def get_latest_version_only(self):
        return self.latest_version_only

    def set_column_name(self, column_name):
        if column_name is None:
            raise OTSClientError("The input column_name of SingleColumnCondition should not be None")
        if not isinstance(column_name, (str, bytes)):
            raise OTSClientError(
                "The input column_name of SingleColumnCondition should be an instance of str, not %s"
                % column_name.__class__.__name__
            )
        self.column_name = column_name

    def get_column_name(self):
        return self.column_name

    def set_column_value(self, column_value):
        if column_value is None:
            raise OTSClientError("The input column_value of SingleColumnCondition should not be None")
        self.column_value = column_value

    def get_column_value(self):
        return self.column_value

    def set_comparator(self, comparator):
        if isinstance(comparator, bool) or comparator not in ComparatorType.__values__:
            raise OTSClientError(
                "Expect input comparator of SingleColumnCondition should be one of %s, but '%s'"
                % (str(ComparatorType.__members__), comparator)
            )
        self.comparator = comparator

    def get_comparator(self):
        return self.comparator

    def __repr__(self):
        return "SingleColumnCondition(%r, %r, %s, pass_if_missing=%r, latest_version_only=%r)" % (
            self.column_name,
            self.column_value,
            ComparatorType.__members__[self.comparator],
            self.pass_if_missing,
            self.latest_version_only,
        )


class RowExistenceExpectation(object):
    """What a write expects about the row's existence."""

    IGNORE = "IGNORE"
    EXPECT_EXIST = "EXPECT_EXIST"
    EXPECT_NOT_EXIST = "EXPECT_NOT_EXIST"

    __values__ = [IGNORE, EXPECT_EXIST, EXPECT_NOT_EXIST]
    __members__ = [
        "RowExistenceExpectation.IGNORE",
        "RowExistenceExpectation.EXPECT_EXIST",
        "RowExistenceExpectation.EXPECT_NOT_EXIST",
    ]


class Condition(object):
    """A write condition: a row-existence expectation and an optional column condition."""

    def __init__(self, row_existence_expectation, column_condition=None):
        self.row_existence_expectation = None
        self.column_condition = None
        self.set_row_existence_expectation(row_existence_expectation)
        if column_condition is not None:
            self.set_column_condition(column_condition)

    def set_row_existence_expectation(self, row_existence_expectation):
        if row_existence_expectation not in RowExistenceExpectation.__values__:
            raise OTSClientError(
                "Expect input row_existence_expectation should be one of %s, but '%s'"
                % (str(RowExistenceExpectation.__members__), row_existence_expectation)
            )
        self.row_existence_expectation = row_existence_expectation

    def get_row_existence_expectation(self):
        return self.row_existence_expectation

    def set_column_condition(self, column_condition):
        if not isinstance(column_condition, ColumnCondition):
            raise OTSClientError(
                "The input column_condition should be an instance of ColumnCondition, not %s"
                % column_condition.__class__.__name__
            )
        self.column_condition = column_condition

    def get_column_condition(self):
        return self.column_condition

    def __repr__(self):
        return "Condition(%r, %r)" % (self.row_existence_expectation, self.column_condition)


# --------------------------------------------------------------------------
# Rows


class Row(object):
    """A row. ``primary_key``: list of ``(name, value)``. ``attribute_columns``:
    for a put, a list of ``(name, value)`` or ``(name, value, timestamp)``;
    for an update, a dict ``{'PUT': [...], 'DELETE': [...], 'DELETE_ALL':
    [...], 'INCREMENT': [...]}``; in results, a list of ``(name, value,
    timestamp)``."""

    def __init__(self, primary_key, attribute_columns=None):
        self.primary_key = primary_key
        self.attribute_columns = attribute_columns

    def __repr__(self):
        return "Row(%r, %r)" % (self.primary_key, self.attribute_columns)


class BatchWriteRowType(object):
    """Kinds of row operation in a BatchWriteRow."""

    PUT = "put"
    UPDATE = "update"
    DELETE = "delete"


class RowItem(object):
    """One row operation of a BatchWriteRow."""

    def __init__(self, row_type, row, condition, return_type=None):
        self.type = row_type
        self.condition = condition
        self.row = row
        self.return_type = return_type


class PutRowItem(RowItem):
    """A put in a BatchWriteRow."""

    def __init__(self, row, condition, return_type=None):
        RowItem.__init__(self, BatchWriteRowType.PUT, row, condition, return_type)


class UpdateRowItem(RowItem):
    """An update in a BatchWriteRow."""

    def __init__(self, row, condition, return_type=None):
        RowItem.__init__(self, BatchWriteRowType.UPDATE, row, condition, return_type)


class DeleteRowItem(RowItem):
    """A delete in a BatchWriteRow."""

    def __init__(self, row, condition, return_type=None):
        RowItem.__init__(self, BatchWriteRowType.DELETE, row, condition, return_type)


# --------------------------------------------------------------------------
# BatchGetRow


class RowDataItem(object):
    """One row result of a BatchGetRow. When ``is_ok`` is false,
    ``error_code`` and ``error_message`` say why; else ``consumed`` and
    ``row`` (``None`` when the row does not exist) hold the result."""

    def __init__(self, is_ok, error_code, error_message, table_name, consumed, primary_key_columns, attribute_columns):
        self.is_ok = is_ok
        self.error_code = error_code
        self.error_message = error_message
        self.table_name = table_name
        self.consumed = consumed
        self.row = None
        if primary_key_columns is not None or attribute_columns is not None:
            self.row = Row(primary_key_columns, attribute_columns)

    def __repr__(self):
        if self.is_ok:
            return "RowDataItem(ok, %r, %r)" % (self.table_name, self.row)
        return "RowDataItem(failed, %r, %s: %s)" % (self.table_name, self.error_code, self.error_message)


class TableInBatchGetRowItem(object):
    """The rows to read from one table in a BatchGetRow."""

    def __init__(self, table_name, primary_keys, columns_to_get=None, column_filter=None, max_version=1,
                 time_range=None, start_column=None, end_column=None, token=None):
        self.table_name = table_name
        self.primary_keys = primary_keys
        self.columns_to_get = columns_to_get
        self.column_filter = column_filter
        self.max_version = max_version
        self.time_range = time_range
        self.start_column = start_column
        self.end_column = end_column
        self.token = token


class BatchGetRowRequest(object):
    """A BatchGetRow request: one :class:`TableInBatchGetRowItem` per table
    (adding a second item for the same table replaces the first)."""

    def __init__(self):
        self.items = {}

    def add(self, table_item):
        if not isinstance(table_item, TableInBatchGetRowItem):
            raise OTSClientError(
                "The input table_item should be an instance of TableInBatchGetRowItem, not %s"
                % table_item.__class__.__name__
            )
        self.items[table_item.table_name] = table_item


class BatchGetRowResponse(object):
    """Result of a BatchGetRow: per table, one :class:`RowDataItem` per key, in request order."""

    def __init__(self, table_rows):
        self.items = table_rows

    def get_failed_rows(self):
        return [row for rows in self.items.values() for row in rows if not row.is_ok]

    def get_succeed_rows(self):
        return [row for rows in self.items.values() for row in rows if row.is_ok]

    def get_result(self):
        return self.get_succeed_rows(), self.get_failed_rows()

    def get_result_by_table(self, table_name):
        return self.items.get(table_name)

    def is_all_succeed(self):
        return self.get_failed_rows() == []


# --------------------------------------------------------------------------
# BatchWriteRow


class TableInBatchWriteRowItem(object):
    """The row operations on one table in a BatchWriteRow."""

    def __init__(self, table_name, row_items):
        self.table_name = table_name
        self.row_items = row_items


class BatchWriteRowRequest(object):
    """A BatchWriteRow request: one :class:`TableInBatchWriteRowItem` per
    table (adding a second item for the same table replaces the first)."""

    def __init__(self):
        self.items = {}
        self.transaction_id = None

    def add(self, table_item):
        if not isinstance(table_item, TableInBatchWriteRowItem):
            raise OTSClientError(
                "The input table_item should be an instance of TableInBatchWriteRowItem, not %s"
                % table_item.__class__.__name__
            )
        self.items[table_item.table_name] = table_item

    def set_transaction_id(self, transaction_id):
        self.transaction_id = transaction_id


class BatchWriteRowResponseItem(object):
    """One row result of a BatchWriteRow."""

    def __init__(self, is_ok, error_code, error_message, consumed, primary_key):
        self.is_ok = is_ok
        self.error_code = error_code
        self.error_message = error_message
        self.consumed = consumed
        self.row = Row(primary_key)
        self.index = None

    def set_index(self, index):
        self.index = index

    def __repr__(self):
        if self.is_ok:
            return "BatchWriteRowResponseItem(ok, index=%r, %r)" % (self.index, self.row.primary_key)
        return "BatchWriteRowResponseItem(failed, index=%r, %s: %s)" % (
            self.index,
            self.error_code,
            self.error_message,
        )


class BatchWriteRowResponse(object):
    """Result of a BatchWriteRow, split per table into puts, updates and deletes."""

    def __init__(self, request, response):
        self.table_of_put = {}
        self.table_of_update = {}
        self.table_of_delete = {}
        for table_name, results in response.items():
            puts, updates, deletes = [], [], []
            row_items = request.items[table_name].row_items
            for index, item in enumerate(results):
                item.set_index(index)
                kind = row_items[index].type
                if kind == BatchWriteRowType.PUT:
                    puts.append(item)
                elif kind == BatchWriteRowType.UPDATE:
                    updates.append(item)
                else:
                    deletes.append(item)
            self.table_of_put[table_name] = puts
            self.table_of_update[table_name] = updates
            self.table_of_delete[table_name] = deletes

    @staticmethod
    def _split(tables):
        succ, fail = [], []
        for rows in tables.values():
            for row in rows:
                (succ if row.is_ok else fail).append(row)
        return succ, fail

    def get_put(self):
        return self._split(self.table_of_put)

    def get_put_by_table(self, table_name):
        return self.table_of_put[table_name]

    def get_failed_of_put(self):
        return self.get_put()[1]

    def get_succeed_of_put(self):
        return self.get_put()[0]

    def get_update(self):
        return self._split(self.table_of_update)

    def get_update_by_table(self, table_name):
        return self.table_of_update[table_name]

    def get_failed_of_update(self):
        return self.get_update()[1]

    def get_succeed_of_update(self):
        return self.get_update()[0]

    def get_delete(self):
        return self._split(self.table_of_delete)

    def get_delete_by_table(self, table_name):
        return self.table_of_delete[table_name]

    def get_failed_of_delete(self):
        return self.get_delete()[1]

    def get_succeed_of_delete(self):
        return self.get_delete()[0]

    def is_all_succeed(self):
        return not self.get_failed_of_put() and not self.get_failed_of_update() and not self.get_failed_of_delete()
