//! `status URL`, `failover URL` and `failback URL`: the same commands
//! against a running `serve --peer` server (its `GET /v1/links` and
//! `POST /v1/group/{failover,failback}`).

use crate::error::{CliError, CliResult};
use serde_json::{json, Value as J};
use std::path::Path;
use std::time::Duration;
use tablesync_http::{ClientOptions, RowClient};

/// The URL in a path argument that is really `http(s)://…`.
pub fn url_of(p: &Path) -> Option<String> {
    let s = p.to_str()?;
    let lower = s.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then(|| s.to_string())
}

fn client(url: &str, token: Option<&str>) -> CliResult<RowClient> {
    let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
        CliError::arg("a server needs a bearer token: set TABLESYNC_TOKEN or pass --token")
    })?;
    let opts = ClientOptions {
        timeout: Duration::from_secs(120),
        ..ClientOptions::default()
    };
    Ok(RowClient::new(url, token, &opts)?)
}

fn num(j: &J) -> String {
    match j {
        J::Null => "-".into(),
        J::Number(n) => n.to_string(),
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One screen from a `/v1/links` document.
pub fn screen(url: &str, doc: &J) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let ago = |j: &J| {
        j.as_i64().map_or("never".to_string(), |t| {
            format!("{} ms ago", (now - t).max(0))
        })
    };
    let mut out = format!(
        "region  {}  ({url})\ngroup   epoch {}  primary {}  this region: {}{}{}\n",
        num(&doc["region"]),
        num(&doc["epoch"]),
        num(&doc["primary"]),
        num(&doc["role"]),
        if doc["writable"] == json!(true) {
            ", writable"
        } else {
            ", not writable"
        },
        if doc["needs_resync"] == json!(true) {
            " (must resync before leading)"
        } else {
            ""
        }
    );
    for r in doc["lost"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  lost in failover: {} seq {}..={} (epoch {})\n",
            num(&r["origin"]),
            num(&r["from_seq"]),
            num(&r["to_seq"]),
            num(&r["epoch"])
        ));
    }
    out.push_str(&format!(
        "peers\n  {:<16} {:<8} {:>8}  last heard\n",
        "name", "state", "phi"
    ));
    for p in doc["peers"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<16} {:<8} {:>8.2}  {}\n",
            num(&p["name"]),
            num(&p["state"]),
            p["phi"].as_f64().unwrap_or(f64::NAN),
            ago(&p["last_heard_ms"])
        ));
    }
    out.push_str(&format!(
        "links\n  {:<16} {:<18} {:<5} {:<8} {:>9} {:>8} {:>10} {:>12}  last success\n",
        "name", "trigger", "dir", "state", "lag ms", "pending", "records", "bytes"
    ));
    for l in doc["links"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<16} {:<18} {:<5} {:<8} {:>9} {:>8} {:>10} {:>12}  {}{}\n",
            num(&l["name"]),
            num(&l["trigger"]),
            num(&l["direction"]),
            num(&l["state"]),
            num(&l["lag_ms"]),
            num(&l["pending"]),
            num(&l["records_shipped"]),
            num(&l["bytes_shipped"]),
            ago(&l["last_success_ms"]),
            l["last_error"]
                .as_str()
                .map_or(String::new(), |e| format!("  last error: {e}"))
        ));
    }
    out
}

/// `tablesync status URL [--watch]`.
pub fn status(url: &str, token: Option<&str>, watch: bool) -> CliResult<()> {
    let c = client(url, token)?;
    loop {
        let text = screen(url, &c.get("/v1/links")?);
        if watch {
            print!("\x1b[2J\x1b[H{text}");
            std::thread::sleep(Duration::from_secs(1));
        } else {
            print!("{text}");
            return Ok(());
        }
    }
}

/// `tablesync failover URL --promote REGION`.
pub fn failover(url: &str, token: Option<&str>, promote: &str) -> CliResult<()> {
    let c = client(url, token)?;
    let region = c.get("/v1/links")?["region"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if region != promote {
        return Err(CliError::arg(format!(
            "{url} serves region '{region}', not '{promote}': give the URL of the region to promote"
        )));
    }
    let r = c.call("/v1/group/failover", &json!({}))?;
    println!(
        "epoch {}: '{promote}' is the write-primary",
        num(&r["epoch"])
    );
    if r["changed"] == json!(true) {
        println!(
            "it held '{}' up to seq {}; the old primary reports what it acknowledged beyond that when it rejoins",
            num(&r["from"]),
            num(&r["held_seq"])
        );
    }
    Ok(())
}

/// `tablesync failback URL`.
pub fn failback(url: &str, token: Option<&str>) -> CliResult<()> {
    let c = client(url, token)?;
    let r = c.call("/v1/group/failback", &json!({}))?;
    println!(
        "resynced in {} round(s), digests match; epoch {}: '{}' is the write-primary again",
        num(&r["rounds"]),
        num(&r["epoch"]),
        num(&r["primary"])
    );
    Ok(())
}
