//! Conditions and values from JSON (the server's and the CLI's form, also
//! what the Python binding's dicts mirror): any JSON must parse to a
//! condition or a typed error, and a parsed condition must evaluate against
//! a row (in a conditional update) to success or a typed error, never a
//! panic or a half-applied write.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tablesync::{
    Column, Condition, Database, DatabaseOptions, PkColumn, PkType, PrimaryKey, RowExistence,
    RowUpdate, TableSchema,
};
use tablesync_http::json::{to_column_condition, to_value};

fuzz_target!(|data: &[u8]| {
    let Ok(j) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = to_value(&j);
    let Ok(c) = to_column_condition(&j) else {
        return;
    };
    let mut db = Database::memory(DatabaseOptions::new("f")).unwrap();
    db.create_table(TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)]))
        .unwrap();
    let pk = PrimaryKey::new([("k", 1)]);
    db.put_row(
        "t",
        pk.clone(),
        vec![Column::new("a", 1), Column::new("b", "x")],
        Condition::ignore(),
    )
    .unwrap();
    let before = db.table_digest("t").unwrap();
    let r = db.update_row(
        "t",
        pk,
        RowUpdate::new().put(Column::new("a", 2)),
        Condition::row(RowExistence::Ignore).with_column(c),
    );
    if r.is_err() {
        assert_eq!(db.table_digest("t").unwrap(), before, "a refused update changed the row");
    }
});
