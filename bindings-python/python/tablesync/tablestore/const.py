"""Constants of the Tablestore data model as tablesync enforces them.

(The official SDK's ``tablestore.const`` is an internal constants holder;
this module offers the figures a script may want to check against.)
"""

__all__ = [
    "DEFAULT_ENCODING",
    "DEFAULT_SOCKET_TIMEOUT",
    "DEFAULT_MAX_CONNECTION",
    "DEFAULT_LOGGER_NAME",
    "MAX_PK_COLUMNS",
    "MAX_PK_VALUE_SIZE",
    "MAX_CELL_SIZE",
    "MAX_COLUMNS_PER_WRITE",
    "MAX_BATCH_WRITE_ROWS",
    "MAX_BATCH_GET_ROWS",
    "MAX_RANGE_PAGE_ROWS",
    "MAX_VERSIONS_LIMIT",
    "CAPACITY_UNIT_BYTES",
    "INT64_MIN",
    "INT64_MAX",
    "INT32_MIN",
    "INT32_MAX",
]

DEFAULT_ENCODING = "utf8"
DEFAULT_SOCKET_TIMEOUT = 50
DEFAULT_MAX_CONNECTION = 50
DEFAULT_LOGGER_NAME = "tablestore-client"

#: Most primary-key columns a table may have.
MAX_PK_COLUMNS = 4
#: Largest STRING/BINARY primary-key value, in bytes.
MAX_PK_VALUE_SIZE = 1024
#: Largest attribute cell value, in bytes.
MAX_CELL_SIZE = 2 * 1024 * 1024
#: Most attribute columns one write may name.
MAX_COLUMNS_PER_WRITE = 1024
#: Most row operations in one BatchWriteRow.
MAX_BATCH_WRITE_ROWS = 200
#: Most rows in one BatchGetRow.
MAX_BATCH_GET_ROWS = 100
#: Most rows one GetRange page returns.
MAX_RANGE_PAGE_ROWS = 5000
#: Largest ``max_version`` a table or read may use.
MAX_VERSIONS_LIMIT = 2**31 - 1
#: One capacity unit covers this many bytes of a row (rounded up per row).
CAPACITY_UNIT_BYTES = 4096

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
