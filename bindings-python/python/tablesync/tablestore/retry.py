"""Retry policies, as in ``tablestore.retry`` of the official SDK.

A local tablesync endpoint answers deterministically: an operation that
failed fails again the same way, and none of the transient codes these
policies retry (``OTSServerBusy``, ``OTSRowOperationConflict``,
``OTSTimeout``, …) can come from the local engine. The client therefore
consults the policy only for those codes (see ``OTSClient``), so the
policies are accepted and kept, and change nothing locally. They matter once
``http://`` tablesync servers are supported.
"""

import math
import random

__all__ = [
    "RetryPolicy",
    "RetryUtil",
    "DefaultRetryPolicy",
    "NoRetryPolicy",
    "NoDelayRetryPolicy",
    "WriteRetryPolicy",
]

_THROTTLING_CODES = ("OTSServerBusy", "OTSNotEnoughCapacityUnit", "OTSOperationThrottled")
_ALWAYS_RETRIABLE = (
    "OTSRowOperationConflict",
    "OTSNotEnoughCapacityUnit",
    "OTSTableNotReady",
    "OTSPartitionUnavailable",
    "OTSServerBusy",
    "OTSOperationThrottled",
)
_READ_APIS = (
    "ListTable",
    "DescribeTable",
    "GetRow",
    "BatchGetRow",
    "GetRange",
)
_WRITE_APIS = ("PutRow", "UpdateRow", "DeleteRow", "BatchWriteRow")


class RetryPolicy(object):
    """Interface of a retry policy: subclass and implement both methods."""

    def should_retry(self, retry_times, exception, api_name):
        """Whether to retry ``api_name`` after ``exception`` (``retry_times`` retries so far)."""
        raise NotImplementedError()

    def get_retry_delay(self, retry_times, exception, api_name):
        """Seconds to wait before the next retry."""
        raise NotImplementedError()


class RetryUtil(object):
    """Classification of error codes shared by the policies."""

    @classmethod
    def should_retry_no_matter_which_api(cls, exception):
        """Throttling and conflict errors: retriable for every API."""
        if exception.code in _ALWAYS_RETRIABLE:
            return True
        return (
            exception.code == "OTSQuotaExhausted"
            and exception.message == "Too frequent table operations."
        )

    @classmethod
    def is_repeatable_api(cls, api_name):
        """Whether the API is idempotent (a read)."""
        return api_name in _READ_APIS

    @classmethod
    def should_retry_when_api_repeatable(cls, retry_times, exception, api_name):
        """Server-side failures worth retrying for idempotent APIs."""
        if exception.code in ("OTSTimeout", "OTSInternalServerError", "OTSServerUnavailable"):
            return True
        return exception.http_status in (500, 502, 503)

    @classmethod
    def is_server_throttling_exception(cls, exception):
        """Whether the error says the server throttled the request."""
        if exception.code in _THROTTLING_CODES:
            return True
        return (
            exception.code == "OTSQuotaExhausted"
            and exception.message == "Too frequent table operations."
        )


class DefaultRetryPolicy(RetryPolicy):
    """Up to 20 retries with exponential back-off capped at 3 s; retries
    throttling errors for every API and server errors for reads."""

    max_retry_times = 20
    max_retry_delay = 3
    scale_factor = 2
    server_throttling_exception_delay_factor = 0.5
    stability_exception_delay_factor = 0.2

    def _max_retry_time_reached(self, retry_times, exception, api_name):
        return retry_times >= self.max_retry_times

    def is_repeatable_api(self, api_name):
        """Whether the API may be retried after a server error."""
        return RetryUtil.is_repeatable_api(api_name)

    def _can_retry(self, retry_times, exception, api_name):
        if RetryUtil.should_retry_no_matter_which_api(exception):
            return True
        return self.is_repeatable_api(api_name) and RetryUtil.should_retry_when_api_repeatable(
            retry_times, exception, api_name
        )

    def get_retry_delay(self, retry_times, exception, api_name):
        if RetryUtil.is_server_throttling_exception(exception):
            factor = self.server_throttling_exception_delay_factor
        else:
            factor = self.stability_exception_delay_factor
        limit = min(factor * math.pow(self.scale_factor, retry_times), self.max_retry_delay)
        return limit * 0.5 + limit * 0.5 * random.random()

    def should_retry(self, retry_times, exception, api_name):
        if self._max_retry_time_reached(retry_times, exception, api_name):
            return False
        return self._can_retry(retry_times, exception, api_name)


class NoRetryPolicy(RetryPolicy):
    """Never retries."""

    def get_retry_delay(self, retry_times, exception, api_name):
        return 0

    def should_retry(self, retry_times, exception, api_name):
        return False


class NoDelayRetryPolicy(DefaultRetryPolicy):
    """The default policy without waiting between retries."""

    def get_retry_delay(self, retry_times, exception, api_name):
        return 0


class WriteRetryPolicy(DefaultRetryPolicy):
    """The default policy that also retries writes after server errors."""

    def is_repeatable_api(self, api_name):
        return api_name in _READ_APIS or api_name in _WRITE_APIS
