"""A drop-in for the official Alibaba Cloud Tablestore Python SDK's
wide-column API, running on tablesync.

Scripts written for ``tablestore`` run unchanged except for the import line
and the endpoint::

    from tablesync.tablestore import *

    client = OTSClient("memory://demo", "id", "secret", "demo")
    client.create_table(TableMeta("t", [("uid", "INTEGER")]), TableOptions(),
                        ReservedThroughput(CapacityUnit(0, 0)))
    client.put_row("t", Row([("uid", 1)], [("name", "Ann")]))
    consumed, row, _ = client.get_row("t", [("uid", 1)])

Endpoints: ``memory://NAME`` (one in-memory region per name per process),
``file:///abs/path`` or a directory path (durable), or ``http://HOST:PORT``
of a tablesync server (``tablesync serve`` / ``Database.serve``; the access
key secret is its bearer token; see :mod:`tablesync.tablestore.client` for
the consistency this gives).
"""

from . import const, retry
from ._registry import drop_memory_instance
from .client import OTSClient
from .error import *  # noqa: F401,F403
from .error import __all__ as _error_all
from .metadata import *  # noqa: F401,F403
from .metadata import __all__ as _metadata_all
from .retry import *  # noqa: F401,F403
from .retry import __all__ as _retry_all

__version__ = "0.1.0"

__all__ = ["OTSClient", "drop_memory_instance"] + list(_metadata_all) + list(_error_all) + list(_retry_all)
