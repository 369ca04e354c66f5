//! https:// with a certificate from a test CA: a sync and a row call go
//! through with that CA, a client trusting another CA refuses the server,
//! and plain http off loopback needs an explicit opt-in.

mod common;
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tablesync::sync::SyncConfig;
use tablesync_http::{
    serve, sync_url, ClientOptions, HttpRemote, RowClient, ServerConfig, TlsFiles,
};

/// Write a CA and a server certificate for 127.0.0.1/localhost signed by
/// it; returns (ca.pem, cert.pem, key.pem).
fn make_certs(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{name} test CA"));
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn tls_round_trip_with_a_test_ca_and_refusal_of_a_wrong_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(tmp.path(), "good");
    let (other_ca, _, _) = make_certs(tmp.path(), "other");
    let mut served = region("server");
    served
        .put_row(
            "t",
            tablesync::PrimaryKey::new([("k", 1)]),
            vec![tablesync::Column::new("v", 1)],
            tablesync::Condition::ignore(),
        )
        .unwrap();
    let handle = serve(
        Arc::new(RwLock::new(served)),
        ServerConfig {
            token: "rw".into(),
            tls: Some(TlsFiles { cert, key }),
            ..ServerConfig::default()
        },
    )
    .unwrap();
    let url = handle.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let trusting = ClientOptions {
        ca_file: Some(ca),
        ..ClientOptions::default()
    };
    let remote = HttpRemote::with_options(&url, "rw", &trusting).unwrap();
    let mut local = region("laptop");
    let report = sync_url(&mut local, &remote, SyncConfig::default()).unwrap();
    assert!(report.verified, "{report:?}");
    assert_eq!(local.describe_table("t").unwrap().row_count, 1);
    let rows = RowClient::new(&url, "rw", &trusting).unwrap();
    rows.put_row("t", json!({"k": 2}), json!({"v": 2}), "EXPECT_NOT_EXIST")
        .unwrap();
    // Also by name.
    let by_name = url.replace("127.0.0.1", "localhost");
    let rows2 = RowClient::new(&by_name, "rw", &trusting).unwrap();
    assert!(rows2.get_row("t", json!({"k": 2})).unwrap().is_some());

    // A client trusting another CA, or the public roots, refuses the server.
    for opts in [
        ClientOptions {
            ca_file: Some(other_ca),
            ..ClientOptions::default()
        },
        ClientOptions::default(),
    ] {
        let wrong = RowClient::new(&url, "rw", &opts).unwrap();
        let err = wrong.get_row("t", json!({"k": 2})).unwrap_err();
        assert_eq!(err.code(), "SyncError", "{err}");
        let remote = HttpRemote::with_options(&url, "rw", &opts).unwrap();
        assert!(sync_url(&mut local, &remote, SyncConfig::default()).is_err());
    }
    // Plain http to the TLS port gets no answer it can use.
    let plain = url.replace("https://", "http://");
    assert!(RowClient::new(&plain, "rw", &ClientOptions::default())
        .unwrap()
        .get_row("t", json!({"k": 2}))
        .is_err());
    handle.stop();
}

#[test]
fn plain_http_off_loopback_needs_an_explicit_opt_in() {
    let base = ServerConfig {
        listen: "0.0.0.0:0".into(),
        token: "rw".into(),
        ..ServerConfig::default()
    };
    let err = serve(Arc::new(RwLock::new(region("a"))), base.clone())
        .err()
        .expect("refused");
    assert!(err.message().contains("loopback"), "{err}");
    let handle = serve(
        Arc::new(RwLock::new(region("b"))),
        ServerConfig {
            insecure_http: true,
            ..base
        },
    )
    .unwrap();
    handle.stop();
    // Unusable TLS files are an error at start, not at the first request.
    let tmp = tempfile::tempdir().unwrap();
    let missing = ServerConfig {
        token: "rw".into(),
        tls: Some(TlsFiles {
            cert: tmp.path().join("nope.pem"),
            key: tmp.path().join("nope-key.pem"),
        }),
        ..ServerConfig::default()
    };
    assert!(serve(Arc::new(RwLock::new(region("c"))), missing).is_err());
}
