"""SDK conditions and column filters in tablesync's dict form."""

from .error import OTSClientError, OTSServiceError
from .metadata import (
    ColumnCondition,
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    LogicalOperator,
    RowExistenceExpectation,
    SingleColumnCondition,
)
from ._values import attribute_value, column_name

_OPS = {
    ComparatorType.EQUAL: "==",
    ComparatorType.NOT_EQUAL: "!=",
    ComparatorType.GREATER_THAN: ">",
    ComparatorType.GREATER_EQUAL: ">=",
    ComparatorType.LESS_THAN: "<",
    ComparatorType.LESS_EQUAL: "<=",
}


class ServiceReject(Exception):
    """A request the service would refuse (raised as :class:`OTSServiceError`
    for single operations, reported per row in batches)."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message


def column_condition(cond):
    """A :class:`ColumnCondition` as tablesync's condition dict."""
    if not isinstance(cond, ColumnCondition):
        raise OTSClientError(
            "column condition should be an instance of ColumnCondition, not %s" % cond.__class__.__name__
        )
    if isinstance(cond, SingleColumnCondition):
        op = _OPS.get(cond.comparator)
        if op is None or isinstance(cond.comparator, bool):
            raise OTSClientError(
                "ComparatorType should be one of %s, not %s" % (ComparatorType.__members__, cond.comparator)
            )
        if cond.column_value is None:
            raise OTSClientError("The input column_value of SingleColumnCondition should not be None")
        return {
            "column": column_name(cond.column_name),
            "op": op,
            "value": attribute_value(cond.column_value, "column_value of SingleColumnCondition"),
            "pass_if_missing": bool(cond.pass_if_missing),
            "latest_version_only": bool(cond.latest_version_only),
        }
    if isinstance(cond, CompositeColumnCondition):
        subs = [column_condition(c) for c in cond.sub_conditions]
        if cond.combinator == LogicalOperator.NOT:
            if len(subs) != 1:
                raise ServiceReject(
                    "OTSParameterInvalid",
                    "a NOT composite condition takes exactly one sub-condition, got %d" % len(subs),
                )
            return {"not": subs[0]}
        if not subs:
            raise ServiceReject("OTSParameterInvalid", "a composite condition needs sub-conditions")
        if cond.combinator == LogicalOperator.AND:
            return {"and": subs}
        if cond.combinator == LogicalOperator.OR:
            return {"or": subs}
        raise OTSClientError(
            "LogicalOperator should be one of %s, not %s" % (LogicalOperator.__members__, cond.combinator)
        )
    raise OTSClientError(
        "expect CompositeColumnCondition, SingleColumnCondition but not %s" % cond.__class__.__name__
    )


def column_filter(cond):
    """An optional read filter (``None`` stays ``None``)."""
    return None if cond is None else column_condition(cond)


def write_condition(cond):
    """A write :class:`Condition` (``None`` means ``IGNORE``) as tablesync's form."""
    if cond is None:
        return "IGNORE"
    if not isinstance(cond, Condition):
        raise OTSClientError("condition should be an instance of Condition, not %s" % cond.__class__.__name__)
    expectation = cond.row_existence_expectation
    if isinstance(expectation, bytes):
        expectation = column_name(expectation, "row_existence_expectation")
    if expectation not in RowExistenceExpectation.__values__:
        raise OTSClientError(
            "row_existence_expectation should be one of %s, not %s"
            % (RowExistenceExpectation.__values__, expectation)
        )
    if cond.column_condition is None:
        return expectation
    return {"row": expectation, "column": column_condition(cond.column_condition)}


def is_conditional(cond):
    """Whether a write condition needs the row read (Tablestore charges a read CU)."""
    return cond is not None and (
        cond.row_existence_expectation != RowExistenceExpectation.IGNORE or cond.column_condition is not None
    )


def service_error(reject, request_id):
    """The :class:`OTSServiceError` for a :class:`ServiceReject`."""
    from .error import http_status_of

    return OTSServiceError(http_status_of(reject.code), reject.code, reject.message, request_id)
