//! A blocking client of the row API and the change feed.

use crate::client::{agent_for, status_error, ClientOptions};
use crate::ERROR_CODE_HEADER;
use serde_json::{json, Value as J};
use std::io::Read;
use std::time::Duration;
use tablesync::{Error, Result};

/// Largest JSON answer the client reads.
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// Row operations executed at a remote region (JSON values, see docs/SERVER.md).
#[derive(Clone, Debug)]
pub struct RowClient {
    base: String,
    token: String,
    agent: ureq::Agent,
    epoch: Option<u64>,
}

impl RowClient {
    /// A client of the server at `base_url`.
    pub fn new(base_url: &str, token: &str, opts: &ClientOptions) -> Result<RowClient> {
        Ok(RowClient {
            base: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            agent: agent_for(base_url, opts)?,
            epoch: None,
        })
    }

    /// Send `X-Tablesync-Epoch: EPOCH` with every call: a server hosting a
    /// region group refuses the writes (`StaleEpoch`) unless it is at that epoch.
    pub fn with_epoch(mut self, epoch: Option<u64>) -> RowClient {
        self.epoch = epoch;
        self
    }

    /// GET `path` (e.g. `/v1/links`) and return the JSON answer.
    pub fn get(&self, path: &str) -> Result<J> {
        let url = format!("{}{path}", self.base);
        let r = self.call_get(&url);
        self.answer(r, &url)
    }

    /// GET `url` with the bearer token; a transport failure is one `Sync` error.
    fn call_get(&self, url: &str) -> Result<ureq::http::Response<ureq::Body>> {
        self.agent
            .get(url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .map_err(|e| Error::Sync(format!("GET {url}: {e}")))
    }

    fn answer(&self, resp: Result<ureq::http::Response<ureq::Body>>, what: &str) -> Result<J> {
        let mut resp = resp?;
        let status = resp.status().as_u16();
        let code = resp
            .headers()
            .get(ERROR_CODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut body)
            .map_err(|e| Error::Sync(format!("reading the answer to {what}: {e}")))?;
        if status != 200 {
            return Err(status_error(status, code.as_deref(), &body));
        }
        serde_json::from_slice(&body)
            .map_err(|e| Error::Sync(format!("the answer to {what} is not JSON: {e}")))
    }

    /// POST a JSON body to `path` (e.g. `/v1/row/put`) and return the JSON answer.
    pub fn call(&self, path: &str, body: &J) -> Result<J> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json");
        if let Some(e) = self.epoch {
            req = req.header(crate::EPOCH_HEADER, &e.to_string());
        }
        let r = req
            .send(body.to_string().as_bytes())
            .map_err(|e| Error::Sync(format!("POST {url}: {e}")));
        self.answer(r, &url)
    }

    /// Put a row; `condition` is `IGNORE`, `EXPECT_EXIST` or `EXPECT_NOT_EXIST`.
    pub fn put_row(&self, table: &str, pk: J, columns: J, condition: &str) -> Result<J> {
        self.call(
            "/v1/row/put",
            &json!({"table": table, "primary_key": pk, "columns": columns, "condition": condition}),
        )
    }

    /// Read a row: `Some({"primary_key", "columns"})` or `None`.
    pub fn get_row(&self, table: &str, pk: J) -> Result<Option<J>> {
        let a = self.call("/v1/row/get", &json!({"table": table, "primary_key": pk}))?;
        Ok(a.get("row").filter(|r| !r.is_null()).cloned())
    }

    /// Delete a row under a condition.
    pub fn delete_row(&self, table: &str, pk: J, condition: &str) -> Result<J> {
        self.call(
            "/v1/row/delete",
            &json!({"table": table, "primary_key": pk, "condition": condition}),
        )
    }

    /// Records with cursor ≥ `after`, waiting up to `wait` for one to commit.
    pub fn changes(&self, after: u64, wait: Duration) -> Result<(Vec<J>, u64)> {
        let url = format!(
            "{}/v1/changes?after={after}&wait={}",
            self.base,
            wait.as_millis()
        );
        let r = self.call_get(&url);
        let a = self.answer(r, &url)?;
        let next = a
            .get("next")
            .and_then(J::as_u64)
            .ok_or_else(|| Error::Sync("the change feed answer has no 'next'".into()))?;
        let records = a
            .get("records")
            .and_then(J::as_array)
            .cloned()
            .unwrap_or_default();
        Ok((records, next))
    }

    /// Whether the change log holds a record with cursor ≥ `after` (one
    /// record asked for, no waiting).
    pub fn has_changes_since(&self, after: u64) -> Result<bool> {
        let url = format!("{}/v1/changes?after={after}&limit=1", self.base);
        let r = self.call_get(&url);
        let a = self.answer(r, &url)?;
        Ok(a.get("records")
            .and_then(J::as_array)
            .is_some_and(|r| !r.is_empty()))
    }

    /// The whole region at one consistent point (`GET /v1/snapshot`): a
    /// snapshot frame (FORMAT.md §11) for [`tablesync::Database::import_snapshot`].
    pub fn snapshot(&self) -> Result<Vec<u8>> {
        let url = format!("{}{}", self.base, crate::SNAPSHOT_PATH);
        let mut resp = self.call_get(&url)?;
        let status = resp.status().as_u16();
        let code = resp
            .headers()
            .get(ERROR_CODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // A frame is at most its header plus a 32-bit payload length.
        let cap = u64::from(u32::MAX) + 64;
        let mut body = Vec::new();
        resp.body_mut()
            .with_config()
            .limit(cap)
            .reader()
            .read_to_end(&mut body)
            .map_err(|e| Error::Sync(format!("reading the snapshot from {url}: {e}")))?;
        if status != 200 {
            return Err(status_error(status, code.as_deref(), &body));
        }
        Ok(body)
    }

    /// What changed since log cursor `after` (`GET /v1/snapshot?after=`):
    /// a snapshot-delta frame (FORMAT.md §11.1) for
    /// [`tablesync::Database::apply_snapshot_delta`], or `None` when the
    /// server's log no longer reaches back to `after` (`LogGap`: take the
    /// whole snapshot).
    pub fn snapshot_delta(&self, after: u64) -> Result<Option<Vec<u8>>> {
        let url = format!("{}{}?after={after}", self.base, crate::SNAPSHOT_PATH);
        let mut resp = self.call_get(&url)?;
        let status = resp.status().as_u16();
        let code = resp
            .headers()
            .get(ERROR_CODE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        resp.body_mut()
            .with_config()
            .limit(u64::from(u32::MAX) + 64)
            .reader()
            .read_to_end(&mut body)
            .map_err(|e| Error::Sync(format!("reading the snapshot delta from {url}: {e}")))?;
        match (status, code.as_deref()) {
            (200, _) => Ok(Some(body)),
            (_, Some("LogGap")) => Ok(None),
            _ => Err(status_error(status, code.as_deref(), &body)),
        }
    }

    /// The region at one consistent point, imported into memory (on the
    /// system clock): a [`tablesync::backup::BackupSource`] with the
    /// server's region name, rows, change log, cursors and version vectors,
    /// so backing it up is backing the served region up.
    pub fn snapshot_database(&self) -> Result<tablesync::Database> {
        let bytes = self.snapshot()?;
        tablesync::Database::import_snapshot(&bytes, std::sync::Arc::new(tablesync::SystemClock))
    }

    /// An endless iterator over change records from `after`, each long poll
    /// waiting up to `wait`.
    pub fn subscribe(&self, after: u64, wait: Duration) -> Changes {
        Changes {
            client: self.clone(),
            next: after,
            wait,
            buffered: Vec::new().into_iter(),
        }
    }
}

/// Change records as they commit (see [`RowClient::subscribe`]).
pub struct Changes {
    client: RowClient,
    next: u64,
    wait: Duration,
    buffered: std::vec::IntoIter<J>,
}

impl Changes {
    /// The cursor the next poll starts from.
    pub fn cursor(&self) -> u64 {
        self.next
    }
}

impl Iterator for Changes {
    type Item = Result<J>;

    fn next(&mut self) -> Option<Result<J>> {
        loop {
            if let Some(r) = self.buffered.next() {
                return Some(Ok(r));
            }
            match self.client.changes(self.next, self.wait) {
                Ok((records, next)) => {
                    self.next = next;
                    self.buffered = records.into_iter();
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
