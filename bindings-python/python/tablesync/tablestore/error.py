"""Exceptions of the Tablestore-compatible client.

Mirrors ``tablestore.error`` of the official Alibaba Cloud Tablestore Python
SDK: :class:`OTSClientError` for mistakes caught before a request is made
(wrong argument types, unknown enum values, unsupported features) and
:class:`OTSServiceError` for errors the service (here: the local tablesync
engine) reports, with Tablestore's error code and HTTP status.
"""

__all__ = [
    "OTSError",
    "OTSClientError",
    "OTSServiceError",
    "HTTP_STATUS_OF_CODE",
    "http_status_of",
]


class OTSError(Exception):
    """Base class of every error the client raises."""


class OTSClientError(OTSError):
    """An error detected on the client side, before any data is touched."""

    def __init__(self, message, http_status=None):
        super().__init__(message)
        self.message = message
        self.http_status = http_status

    def get_http_status(self):
        """The HTTP status, or ``None`` (client errors have none)."""
        return self.http_status

    def get_error_message(self):
        """The message."""
        return self.message

    def __str__(self):
        return str(self.message)


class OTSServiceError(OTSError):
    """An error reported by the service, carrying Tablestore's error code."""

    def __init__(self, http_status, code, message, request_id=""):
        super().__init__(http_status, code, message, request_id)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.request_id = request_id

    def get_http_status(self):
        """The HTTP status Tablestore answers this error with (e.g. 403)."""
        return self.http_status

    def get_error_code(self):
        """The error code, e.g. ``OTSConditionCheckFail``."""
        return self.code

    def get_error_message(self):
        """The error message."""
        return self.message

    def get_request_id(self):
        """The id of the request that failed."""
        return self.request_id

    def __str__(self):
        return "ErrorCode: %s, ErrorMessage: %s, RequestID: %s" % (
            self.code,
            self.message,
            self.request_id,
        )


#: HTTP status Tablestore returns with each error code (from the service's
#: error-code table). Codes of tablesync's own (storage, sync) are not
#: Tablestore's; they are reported with status 500 and keep their own code.
HTTP_STATUS_OF_CODE = {
    "OTSParameterInvalid": 400,
    "OTSInvalidPK": 400,
    "OTSOutOfColumnCountLimit": 400,
    "OTSOutOfRowSizeLimit": 400,
    "OTSConditionCheckFail": 403,
    "OTSAuthFailed": 403,
    "OTSNoPermissionAccess": 403,
    "OTSQuotaExhausted": 403,
    "OTSCapacityUnitExhausted": 403,
    "OTSObjectNotExist": 404,
    "OTSMethodNotAllowed": 405,
    "OTSRequestTimeout": 408,
    "OTSObjectAlreadyExist": 409,
    "OTSRowOperationConflict": 409,
    "OTSRequestBodyTooLarge": 413,
    "OTSInternalServerError": 500,
    "OTSServerBusy": 503,
    "OTSPartitionUnavailable": 503,
    "OTSTimeout": 503,
    "OTSServerUnavailable": 503,
    "OTSTableNotReady": 503,
}


def http_status_of(code, error=None):
    """The HTTP status reported with ``code``. For a code Tablestore lacks,
    the kind of the tablesync ``error`` decides (an invalid argument is 400,
    like ``OTSParameterInvalid``); anything else is 500."""
    status = HTTP_STATUS_OF_CODE.get(code)
    if status is not None:
        return status
    if error is not None:
        import tablesync

        for cls, status in (
            (tablesync.InvalidArgument, 400),
            (tablesync.ConditionCheckFailed, 403),
            (tablesync.NotFound, 404),
            (tablesync.AlreadyExists, 409),
        ):
            if isinstance(error, cls):
                return status
    return 500
