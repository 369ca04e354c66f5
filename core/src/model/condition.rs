//! Row-existence expectations, column conditions and filters.

use super::value::Value;
use serde::{Deserialize, Serialize};

/// What a write expects about the row's existence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RowExistence {
    /// No expectation.
    #[default]
    Ignore,
    /// The row must exist.
    ExpectExist,
    /// The row must not exist.
    ExpectNotExist,
}

impl RowExistence {
    /// Parse `IGNORE` / `EXPECT_EXIST` / `EXPECT_NOT_EXIST`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "IGNORE" => Some(RowExistence::Ignore),
            "EXPECT_EXIST" => Some(RowExistence::ExpectExist),
            "EXPECT_NOT_EXIST" => Some(RowExistence::ExpectNotExist),
            _ => None,
        }
    }

    /// The upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            RowExistence::Ignore => "IGNORE",
            RowExistence::ExpectExist => "EXPECT_EXIST",
            RowExistence::ExpectNotExist => "EXPECT_NOT_EXIST",
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterEqual,
    /// `<`
    Less,
    /// `<=`
    LessEqual,
}

impl CompareOp {
    /// Parse `== != > >= < <=`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "==" | "=" => CompareOp::Equal,
            "!=" => CompareOp::NotEqual,
            ">" => CompareOp::Greater,
            ">=" => CompareOp::GreaterEqual,
            "<" => CompareOp::Less,
            "<=" => CompareOp::LessEqual,
            _ => return None,
        })
    }

    /// The operator's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
            CompareOp::Greater => ">",
            CompareOp::GreaterEqual => ">=",
            CompareOp::Less => "<",
            CompareOp::LessEqual => "<=",
        }
    }
}

/// A column condition or filter: single comparisons combined with AND/OR/NOT.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ColumnCondition {
    /// Compare one column with a value.
    Single {
        /// Column name (attribute or primary-key column).
        column: String,
        /// Operator.
        op: CompareOp,
        /// Right-hand value.
        value: Value,
        /// Result when the column is absent.
        pass_if_missing: bool,
        /// Compare only the latest visible version (else: any visible version matches).
        latest_version_only: bool,
    },
    /// All must hold (at least one operand).
    And(Vec<ColumnCondition>),
    /// Any must hold (at least one operand).
    Or(Vec<ColumnCondition>),
    /// Negation.
    Not(Box<ColumnCondition>),
}

impl ColumnCondition {
    /// A single comparison with the defaults `pass_if_missing = true`,
    /// `latest_version_only = true` (Tablestore's defaults).
    pub fn single(column: impl Into<String>, op: CompareOp, value: impl Into<Value>) -> Self {
        ColumnCondition::Single {
            column: column.into(),
            op,
            value: value.into(),
            pass_if_missing: true,
            latest_version_only: true,
        }
    }
}

/// A write condition: a row-existence expectation and an optional column condition.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Condition {
    /// Row-existence expectation.
    pub row_existence: RowExistence,
    /// Column condition, evaluated against the current row.
    pub column_condition: Option<ColumnCondition>,
}

impl Condition {
    /// No expectation at all.
    pub fn ignore() -> Self {
        Condition::default()
    }
    /// Only a row-existence expectation.
    pub fn row(row_existence: RowExistence) -> Self {
        Condition {
            row_existence,
            column_condition: None,
        }
    }
    /// Add a column condition.
    pub fn with_column(mut self, c: ColumnCondition) -> Self {
        self.column_condition = Some(c);
        self
    }
}

impl From<RowExistence> for Condition {
    fn from(r: RowExistence) -> Self {
        Condition::row(r)
    }
}
