//! `serve --tablestore-listen`: the flags' checks (the protocol itself is
//! tested with the official SDKs by scripts/test-ots).

mod common;
use common::*;

#[test]
fn tablestore_flags_are_checked_before_anything_is_created() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = p(tmp.path(), "srv");
    let keys = tmp.path().join("keys");
    let keys_s = keys.to_str().unwrap();
    let line = fails(
        &["serve", &dir, "--tablestore-listen", "127.0.0.1:0"],
        "OTSParameterInvalid",
    );
    assert!(line.contains("--access-key-file"), "{line}");
    let line = fails(
        &["serve", &dir, "--token", "t", "--access-key-file", keys_s],
        "OTSParameterInvalid",
    );
    assert!(line.contains("--tablestore-listen"), "{line}");
    fails(
        &[
            "serve",
            &dir,
            "--tablestore-listen",
            "127.0.0.1:0",
            "--access-key-file",
            keys_s,
        ],
        "OTSParameterInvalid",
    );
    std::fs::write(&keys, "no colon here\n").unwrap();
    let line = fails(
        &[
            "serve",
            &dir,
            "--tablestore-listen",
            "127.0.0.1:0",
            "--access-key-file",
            keys_s,
        ],
        "OTSParameterInvalid",
    );
    assert!(line.contains("line 1"), "{line}");
    std::fs::write(&keys, "id:secret\n").unwrap();
    fails(
        &[
            "serve",
            &dir,
            "--tablestore-listen",
            "127.0.0.1:0",
            "--access-key-file",
            keys_s,
            "--instance",
            "",
        ],
        "OTSParameterInvalid",
    );
    assert!(!tmp.path().join("srv").exists());
}
