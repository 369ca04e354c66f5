use super::*;

fn sample() -> PbRow {
    PbRow {
        primary_key: vec![
            ("a".into(), PbValue::Integer(-1)),
            ("b".into(), PbValue::String("x y".into())),
            ("c".into(), PbValue::Binary(vec![0, 255])),
        ],
        cells: vec![
            PbCell {
                name: "d".into(),
                value: Some(PbValue::Double(f64::MIN_POSITIVE)),
                op: None,
                timestamp: Some(1),
            },
            PbCell {
                name: "e".into(),
                value: None,
                op: Some(CellOp::DeleteAllVersions),
                timestamp: None,
            },
        ],
        delete_marker: false,
    }
}

#[test]
fn rows_round_trip_alone_and_in_sequence() {
    let r = sample();
    let bytes = encode_row(&r.primary_key, &r.cells, r.delete_marker);
    assert_eq!(decode_row(&bytes).unwrap(), r);
    let mut w = RowWriter::new();
    w.row(&r.primary_key, &r.cells, false);
    w.row(&r.primary_key, &[], false);
    let rows = decode_rows(&w.finish()).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[1].cells.is_empty());
    assert_eq!(decode_rows(&[]).unwrap(), Vec::<PbRow>::new());
}

#[test]
fn huge_length_prefixes_fail_before_allocating() {
    // Header, ROW_PK, CELL, CELL_NAME with a 4 GiB name length.
    let bytes = [0x75, 0, 0, 0, 1, 3, 4, 0xff, 0xff, 0xff, 0xff, b'a'];
    let e = decode_row(&bytes).unwrap_err();
    assert!(e.reason.contains("needs 4294967295 more bytes"), "{e}");
    assert!(decode_row(&[0x76, 0, 0, 0, 1]).is_err());
    assert!(decode_variant(&[vt::STRING, 9, 0, 0, 0, b'a']).is_err());
    assert!(decode_variant(&[0x42]).is_err());
}

#[test]
fn zero_padding_after_a_row_is_accepted_other_bytes_are_not() {
    // The Node SDK sends buffers padded with zeros.
    let r = sample();
    let mut bytes = encode_pk_row(&r.primary_key);
    bytes.extend_from_slice(&[0, 0, 0]);
    assert_eq!(decode_row(&bytes).unwrap().primary_key, r.primary_key);
    bytes.push(7);
    assert!(decode_row(&bytes).is_err());
    let mut two = encode_pk_row(&r.primary_key);
    two.push(0x01);
    assert!(decode_row(&two).is_err());
}
