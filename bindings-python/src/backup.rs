//! Backups: `Database.backup`, `restore`, `Backups(repo).list()/verify()/prune()`,
//! and the `BackupInfo` / `VerifyReport` results. Conversions only; the
//! logic is `tablesync::backup`.

use crate::database::Database;
use crate::errors::{invalid, type_error, IntoPyResult};
use crate::shared::Shared;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::path::PathBuf;
use tablesync::backup::{
    BackupMode, BackupOptions, KdfParams, KeySource, PrunePolicy, Repository, RestoreOptions,
    RestorePoint, VerifyOptions, CONFIG_NAME, INIT_RANDOM_LEN,
};
use tablesync::{Database as CoreDb, DatabaseOptions};

/// One backup: `.id`, `.kind` (`"full"` / `"incremental"`), `.parent`,
/// `.created_ms`, `.region`, `.point` and `.covers_from` (HLC stamps),
/// `.tables`, `.rows`, `.records`, `.bytes`, `.new_bytes`, and `.created`
/// (False when `backup()` found nothing new and returned the last one).
#[pyclass(frozen, get_all, module = "tablesync._tablesync")]
pub struct BackupInfo {
    id: String,
    kind: String,
    parent: Option<String>,
    created_ms: i64,
    region: String,
    point: u64,
    covers_from: u64,
    tables: Vec<String>,
    rows: u64,
    records: u64,
    bytes: u64,
    new_bytes: u64,
    created: bool,
}

impl BackupInfo {
    fn of(b: &tablesync::backup::BackupInfo, created: bool) -> Self {
        BackupInfo {
            id: b.id.clone(),
            kind: b.kind.name().to_string(),
            parent: b.parent.clone(),
            created_ms: b.created_ms,
            region: b.region.clone(),
            point: b.point,
            covers_from: b.covers_from,
            tables: b.tables.clone(),
            rows: b.rows,
            records: b.records,
            bytes: b.bytes,
            new_bytes: b.new_bytes,
            created,
        }
    }
}

#[pymethods]
impl BackupInfo {
    fn __repr__(&self) -> String {
        format!(
            "BackupInfo(id='{}', kind='{}', rows={}, records={})",
            self.id, self.kind, self.rows, self.records
        )
    }
}

/// What `Backups.verify()` found: `.ok`, `.problems` (empty when ok) and counts.
#[pyclass(frozen, get_all, module = "tablesync._tablesync")]
pub struct VerifyReport {
    ok: bool,
    manifests: u64,
    chunks_referenced: u64,
    chunks_checked: u64,
    bytes_read: u64,
    unreferenced_chunks: u64,
    backups_replayed: u64,
    problems: Vec<String>,
}

#[pymethods]
impl VerifyReport {
    fn __repr__(&self) -> String {
        format!(
            "VerifyReport(ok={}, manifests={}, chunks_checked={}, problems={})",
            if self.ok { "True" } else { "False" },
            self.manifests,
            self.chunks_checked,
            self.problems.len()
        )
    }
}

/// The key from `passphrase=` (str or bytes) or `key_file=` (a path).
fn key_from_py(
    passphrase: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
) -> PyResult<Option<KeySource>> {
    match (passphrase.filter(|p| !p.is_none()), key_file) {
        (Some(_), Some(_)) => Err(invalid("give passphrase= or key_file=, not both")),
        (Some(p), None) => {
            let b = if let Ok(s) = p.cast::<PyString>() {
                s.extract::<String>()?.into_bytes()
            } else if let Ok(b) = p.cast::<PyBytes>() {
                b.as_bytes().to_vec()
            } else {
                return Err(type_error("passphrase", "str or bytes", p));
            };
            if b.is_empty() {
                return Err(invalid("the passphrase is empty"));
            }
            Ok(Some(KeySource::Passphrase(b)))
        }
        (None, Some(path)) => {
            let b = std::fs::read(&path).map_err(|e| {
                crate::errors::to_py_err(tablesync::Error::io_msg(format!(
                    "{}: {e}",
                    path.display()
                )))
            })?;
            Ok(Some(KeySource::KeyFile(b)))
        }
        (None, None) => Ok(None),
    }
}

fn open_repo(
    py: Python<'_>,
    location: &str,
    key: Option<KeySource>,
    create: bool,
) -> PyResult<Repository> {
    py.detach(|| {
        let store = tablesync_store::open_store(location)?;
        if create && !store.exists(CONFIG_NAME)? {
            let mut random = [0u8; INIT_RANDOM_LEN];
            getrandom::fill(&mut random)
                .map_err(|e| tablesync::Error::io_msg(format!("no randomness from the OS: {e}")))?;
            return Repository::init(
                store,
                key.as_ref().map(|k| (k, KdfParams::default())),
                &random,
            );
        }
        Repository::open(store, key.as_ref())
    })
    .py()
}

/// `Database.backup(...)`: back `shared` up into `repo` (created if missing).
pub(crate) fn backup(
    py: Python<'_>,
    shared: &Shared,
    repo: &str,
    tables: Option<Vec<String>>,
    passphrase: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
    full: bool,
) -> PyResult<BackupInfo> {
    let key = key_from_py(passphrase, key_file)?;
    let repo = open_repo(py, repo, key, true)?;
    let opts = BackupOptions {
        tables,
        mode: if full {
            BackupMode::Full
        } else {
            BackupMode::Auto
        },
        ..Default::default()
    };
    let out = shared.run(py, true, |db| db.backup(&repo, &opts, &mut |_| {}))?;
    Ok(BackupInfo::of(&out.info, out.created))
}

/// Back up the region a running `tablesync serve` (or `Database.serve`)
/// at `url` holds into `repo` (created, and encrypted under `passphrase` /
/// `key_file` if given, when missing), from the server's consistent
/// snapshot (`GET /v1/snapshot`; a read-only `token` is enough):
/// incremental when an earlier backup of that region can be continued,
/// else full. `ca_file`: PEM of the CA of an https:// server.
#[pyfunction]
#[pyo3(signature = (url, repo, *, token, tables=None, passphrase=None, key_file=None, full=false, ca_file=None, insecure_http=false))]
#[allow(clippy::too_many_arguments)]
pub fn backup_server(
    py: Python<'_>,
    url: &str,
    repo: &str,
    token: &str,
    tables: Option<Vec<String>>,
    passphrase: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
    full: bool,
    ca_file: Option<PathBuf>,
    insecure_http: bool,
) -> PyResult<BackupInfo> {
    let key = key_from_py(passphrase, key_file)?;
    let opts = tablesync_http::ClientOptions {
        ca_file,
        insecure_http,
        timeout: std::time::Duration::from_secs(3600),
        ..Default::default()
    };
    let client = tablesync_http::RowClient::new(url, token, &opts).py()?;
    // The snapshot first: a wrong URL or token creates no repository.
    let db = py.detach(|| client.snapshot_database()).py()?;
    let repo = open_repo(py, repo, key, true)?;
    let opts = BackupOptions {
        tables,
        mode: if full {
            BackupMode::Full
        } else {
            BackupMode::Auto
        },
        ..Default::default()
    };
    let out = py.detach(|| db.backup(&repo, &opts, &mut |_| {})).py()?;
    Ok(BackupInfo::of(&out.info, out.created))
}

/// Restore a backup into a new `Database`: in memory, or durable in `dest`
/// (a new directory). `at`: a `datetime` or seconds since the epoch;
/// `at_stamp`: an HLC stamp; `backup`: an id or unique prefix; default the
/// latest. `tables`: only these; `rename`: `{old: new}`. The region keeps
/// the backed-up region's name unless `region=` is given. Every table
/// digest is checked against the manifests (`CorruptData` on mismatch).
#[pyfunction]
#[pyo3(signature = (repo, dest=None, *, at=None, at_stamp=None, backup=None, tables=None, rename=None, region=None, passphrase=None, key_file=None))]
#[allow(clippy::too_many_arguments)]
pub fn restore(
    py: Python<'_>,
    repo: &str,
    dest: Option<PathBuf>,
    at: Option<&Bound<'_, PyAny>>,
    at_stamp: Option<u64>,
    backup: Option<String>,
    tables: Option<Vec<String>>,
    rename: Option<std::collections::BTreeMap<String, String>>,
    region: Option<String>,
    passphrase: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
) -> PyResult<Database> {
    let key = key_from_py(passphrase, key_file)?;
    let at = at.filter(|a| !a.is_none());
    let given = [at.is_some(), at_stamp.is_some(), backup.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(invalid("give at most one of at=, at_stamp= and backup="));
    }
    let point = if let Some(a) = at {
        let secs: f64 = if a.hasattr("timestamp")? {
            a.call_method0("timestamp")?.extract()?
        } else {
            a.extract()
                .map_err(|_| type_error("at", "a datetime or seconds since the epoch", a))?
        };
        RestorePoint::at_millis((secs * 1000.0).floor() as i64)
    } else if let Some(s) = at_stamp {
        RestorePoint::Stamp(s)
    } else if let Some(b) = backup {
        RestorePoint::Backup(b)
    } else {
        RestorePoint::Latest
    };
    let repo = open_repo(py, repo, key, false)?;
    let opts = RestoreOptions {
        point,
        tables,
        rename: rename.unwrap_or_default().into_iter().collect(),
        ..Default::default()
    };
    let db = py
        .detach(|| {
            let name = match region {
                Some(r) => r,
                None => {
                    let (tip, _) = tablesync::backup::plan(&repo, &opts.point)?;
                    repo.manifest(&tip)?.region
                }
            };
            let options = DatabaseOptions::new(name.as_str());
            match dest {
                // Straight into the directory, paged: memory stays within
                // the cache whatever the backup's size.
                Some(d) => CoreDb::restore_to_directory(&repo, &opts, &d, options, &mut |_| {}),
                None => CoreDb::restore_from(&repo, &opts, options, &mut |_| {}),
            }
            .map(|(db, _)| db)
        })
        .py()?;
    Ok(Database::from_core(db))
}

/// A backup repository (a directory): `list()`, `verify()`, `prune()`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Backups {
    repo: Repository,
}

#[pymethods]
impl Backups {
    /// Open the repository at `repo`; `passphrase=` or `key_file=` if it is encrypted.
    #[new]
    #[pyo3(signature = (repo, *, passphrase=None, key_file=None))]
    fn new(
        py: Python<'_>,
        repo: &str,
        passphrase: Option<&Bound<'_, PyAny>>,
        key_file: Option<PathBuf>,
    ) -> PyResult<Self> {
        let key = key_from_py(passphrase, key_file)?;
        Ok(Backups {
            repo: open_repo(py, repo, key, false)?,
        })
    }

    /// Every backup, oldest first.
    fn list(&self, py: Python<'_>) -> PyResult<Vec<BackupInfo>> {
        let all = py.detach(|| self.repo.list()).py()?;
        Ok(all.iter().map(|b| BackupInfo::of(b, true)).collect())
    }

    /// Check every object without restoring; `deep=True` also replays
    /// every chain in memory; `sample=(n, t)` reads chunk subset n of t.
    #[pyo3(signature = (deep=false, sample=None))]
    fn verify(
        &self,
        py: Python<'_>,
        deep: bool,
        sample: Option<(u32, u32)>,
    ) -> PyResult<VerifyReport> {
        let r = py
            .detach(|| {
                CoreDb::verify_backups(&self.repo, VerifyOptions { deep, sample }, &mut |_| {})
            })
            .py()?;
        Ok(VerifyReport {
            ok: r.ok(),
            manifests: r.manifests,
            chunks_referenced: r.chunks_referenced,
            chunks_checked: r.chunks_checked,
            bytes_read: r.bytes_read,
            unreferenced_chunks: r.unreferenced_chunks,
            backups_replayed: r.backups_replayed,
            problems: r.problems,
        })
    }

    /// Remove backups outside the policy (and their unreferenced chunks);
    /// returns the ids removed.
    #[pyo3(signature = (keep_last=None, keep_daily=None, dry_run=false))]
    fn prune(
        &self,
        py: Python<'_>,
        keep_last: Option<u32>,
        keep_daily: Option<u32>,
        dry_run: bool,
    ) -> PyResult<Vec<String>> {
        let policy = PrunePolicy {
            keep_last,
            keep_daily,
        };
        let r = py
            .detach(|| tablesync::backup::prune(&self.repo, policy, dry_run))
            .py()?;
        Ok(r.removed)
    }
}
