//! Range-bound expansion: a bare `INF_MIN` / `INF_MAX` standing for every key
//! column, and bounds that name only some key columns. Python, JS, the CLI
//! and the server all call these, so the rules live in one place.

use super::error::{Error, Result};
use super::primary_key::{PkBound, RangeBound};
use super::schema::TableSchema;

impl RangeBound {
    /// `bound` for every key column of `schema`, in schema order: what a bare
    /// `INF_MIN` / `INF_MAX` (or a missing bound) stands for.
    pub fn all(schema: &TableSchema, bound: PkBound) -> RangeBound {
        RangeBound::all_named(schema.primary_key.iter().map(|c| c.name.as_str()), bound)
    }

    /// `bound` for each of `key_columns` (the key column names in schema
    /// order), when the caller holds the names rather than the schema.
    pub fn all_named<S: AsRef<str>>(
        key_columns: impl IntoIterator<Item = S>,
        bound: PkBound,
    ) -> RangeBound {
        RangeBound(
            key_columns
                .into_iter()
                .map(|n| (n.as_ref().to_string(), bound.clone()))
                .collect(),
        )
    }

    /// This bound with every key column of `schema` it leaves out set to
    /// `fill`, in schema order. The columns it names may come in any order;
    /// a name that is not a key column, or a column named twice, is an
    /// [`Error::InvalidPk`] (`OTSInvalidPK`). Values are checked later, when
    /// the bound is encoded (`get_range`, `scan`, [`ScanCursor`](crate::ScanCursor)).
    ///
    /// With `fill = InfMin`, `{uid: 5}` over the key `(uid, name)` is
    /// `{uid: 5, name: INF_MIN}`: the first row with `uid = 5`.
    pub fn expand(&self, schema: &TableSchema, fill: PkBound) -> Result<RangeBound> {
        let mut slots: Vec<Option<&PkBound>> = vec![None; schema.primary_key.len()];
        for (name, part) in &self.0 {
            let Some(i) = schema.primary_key.iter().position(|c| c.name == *name) else {
                return Err(Error::InvalidPk(format!(
                    "range bound names '{name}', which is not a key column of table '{}' (key: {})",
                    schema.name,
                    key_names(schema)
                )));
            };
            if slots[i].is_some() {
                return Err(Error::InvalidPk(format!(
                    "range bound names key column '{name}' twice"
                )));
            }
            slots[i] = Some(part);
        }
        Ok(RangeBound(
            schema
                .primary_key
                .iter()
                .zip(slots)
                .map(|(c, s)| (c.name.clone(), s.cloned().unwrap_or_else(|| fill.clone())))
                .collect(),
        ))
    }
}

fn key_names(schema: &TableSchema) -> String {
    schema
        .primary_key
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::primary_key::{PkType, PkValue};
    use crate::model::schema::PkColumn;

    fn schema() -> TableSchema {
        TableSchema::new(
            "t",
            vec![
                PkColumn::new("uid", PkType::Integer),
                PkColumn::new("name", PkType::String),
            ],
        )
    }

    #[test]
    fn all_sets_every_key_column() {
        let b = RangeBound::all(&schema(), PkBound::InfMax);
        assert_eq!(
            b,
            RangeBound::new([("uid", PkBound::InfMax), ("name", PkBound::InfMax)])
        );
        assert_eq!(b, RangeBound::all_named(["uid", "name"], PkBound::InfMax));
    }

    #[test]
    fn expand_fills_left_out_columns_in_schema_order() {
        let s = schema();
        let b = RangeBound::new([("uid", PkBound::from(5))]);
        assert_eq!(
            b.expand(&s, PkBound::InfMin).unwrap(),
            RangeBound::new([("uid", PkBound::from(5)), ("name", PkBound::InfMin)])
        );
        let b = RangeBound::new([("name", PkBound::InfMax)]);
        assert_eq!(
            b.expand(&s, PkBound::InfMin).unwrap().0,
            vec![
                ("uid".to_string(), PkBound::InfMin),
                ("name".to_string(), PkBound::InfMax)
            ]
        );
        let b = RangeBound::new([("name", PkBound::from("a")), ("uid", PkBound::from(1))]);
        assert_eq!(
            b.expand(&s, PkBound::InfMax).unwrap().0[0],
            ("uid".to_string(), PkBound::Value(PkValue::Integer(1)))
        );
        assert_eq!(
            RangeBound::default().expand(&s, PkBound::InfMax).unwrap(),
            RangeBound::all(&s, PkBound::InfMax)
        );
    }

    #[test]
    fn expand_refuses_unknown_and_repeated_columns() {
        let s = schema();
        let e = RangeBound::new([("nope", PkBound::InfMin)])
            .expand(&s, PkBound::InfMin)
            .unwrap_err();
        assert_eq!(e.code(), "OTSInvalidPK");
        assert!(e.message().contains("'nope'"), "{e}");
        let e = RangeBound::new([("uid", PkBound::from(1)), ("uid", PkBound::from(2))])
            .expand(&s, PkBound::InfMin)
            .unwrap_err();
        assert_eq!(e.code(), "OTSInvalidPK");
    }
}
