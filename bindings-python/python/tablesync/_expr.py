"""Column conditions and filters written as Python expressions.

``col("age") >= 20`` builds the same condition as the dict
``{"column": "age", "op": ">=", "value": 20}``; combine with ``&`` (and),
``|`` (or) and ``~`` (not). Every method that takes a condition or a
``column_filter`` accepts these objects and the dict form alike.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Union

__all__ = ["Col", "Expr", "col"]

Value = Union[int, float, bool, str, bytes, bytearray]
ConditionDict = Dict[str, Any]


def _spec_of(x: object) -> ConditionDict | None:
    if isinstance(x, Expr):
        return x._spec
    if isinstance(x, dict):
        return x
    return None


def _operands(kind: str, a: ConditionDict, b: ConditionDict) -> List[ConditionDict]:
    out: List[ConditionDict] = []
    for s in (a, b):
        # (a & b) & c flattens to one AND with three operands.
        if list(s.keys()) == [kind] and isinstance(s[kind], list):
            out.extend(s[kind])
        else:
            out.append(s)
    return out


def _render(spec: ConditionDict) -> str:
    if "and" in spec:
        return "(" + " & ".join(_render(s) for s in spec["and"]) + ")"
    if "or" in spec:
        return "(" + " | ".join(_render(s) for s in spec["or"]) + ")"
    if "not" in spec:
        return "~" + _render(spec["not"])
    opts = []
    if spec.get("pass_if_missing", True) is not True:
        opts.append("pass_if_missing=False")
    if spec.get("latest_version_only", True) is not True:
        opts.append("latest_version_only=False")
    args = ", ".join([repr(spec.get("column"))] + opts)
    return f"col({args}) {spec.get('op')} {spec.get('value')!r}"


class Expr:
    """A column condition or filter; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ("_spec",)

    def __init__(self, spec: ConditionDict) -> None:
        self._spec = spec

    def __tablesync_condition__(self) -> ConditionDict:
        """The dict form (what the native layer reads)."""
        return self._spec

    def to_dict(self) -> ConditionDict:
        """A deep copy of the dict form."""
        return copy.deepcopy(self._spec)

    def __and__(self, other: Expr | ConditionDict) -> Expr:
        o = _spec_of(other)
        if o is None:
            return NotImplemented
        return Expr({"and": _operands("and", self._spec, o)})

    def __rand__(self, other: ConditionDict) -> Expr:
        o = _spec_of(other)
        if o is None:
            return NotImplemented
        return Expr({"and": _operands("and", o, self._spec)})

    def __or__(self, other: Expr | ConditionDict) -> Expr:
        o = _spec_of(other)
        if o is None:
            return NotImplemented
        return Expr({"or": _operands("or", self._spec, o)})

    def __ror__(self, other: ConditionDict) -> Expr:
        o = _spec_of(other)
        if o is None:
            return NotImplemented
        return Expr({"or": _operands("or", o, self._spec)})

    def __invert__(self) -> Expr:
        return Expr({"not": self._spec})

    def __bool__(self) -> bool:
        raise TypeError(
            "a tablesync condition has no truth value: combine with & | ~, not and/or/not"
        )

    def __repr__(self) -> str:
        return _render(self._spec)


class Col:
    """A column reference; comparing it with a value makes an :class:`Expr`."""

    __slots__ = ("name", "pass_if_missing", "latest_version_only")

    def __init__(
        self, name: str, *, pass_if_missing: bool = True, latest_version_only: bool = True
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"column name must be a str, not {type(name).__name__}")
        self.name = name
        self.pass_if_missing = pass_if_missing
        self.latest_version_only = latest_version_only

    def _cmp(self, op: str, value: Value) -> Expr:
        return Expr(
            {
                "column": self.name,
                "op": op,
                "value": value,
                "pass_if_missing": self.pass_if_missing,
                "latest_version_only": self.latest_version_only,
            }
        )

    def __eq__(self, value: Value) -> Expr:  # type: ignore[override]
        return self._cmp("==", value)

    def __ne__(self, value: Value) -> Expr:  # type: ignore[override]
        return self._cmp("!=", value)

    def __gt__(self, value: Value) -> Expr:
        return self._cmp(">", value)

    def __ge__(self, value: Value) -> Expr:
        return self._cmp(">=", value)

    def __lt__(self, value: Value) -> Expr:
        return self._cmp("<", value)

    def __le__(self, value: Value) -> Expr:
        return self._cmp("<=", value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"col({self.name!r})"


def col(name: str, *, pass_if_missing: bool = True, latest_version_only: bool = True) -> Col:
    """Refer to a column: ``col("age") >= 20``.

    ``pass_if_missing``: the comparison's result when the row lacks the
    column (Tablestore's default: passes). ``latest_version_only``: compare
    only the newest visible version (else any visible version may match).
    """
    return Col(name, pass_if_missing=pass_if_missing, latest_version_only=latest_version_only)
