//! A repository in object storage (`s3://`, `oss://`, `gs://`, `az://`)
//! through the `object_store` crate, behind the synchronous
//! [`ObjectStore`] trait of the core.
//!
//! Every call runs on a private single-threaded tokio runtime (on a helper
//! thread when the caller is itself inside a runtime). A `put` is one
//! PUT request, which S3-compatible services apply atomically: a reader
//! sees the whole object or none, so the core's "manifest last" rule holds.

use crate::name::check_name;
use futures_util::TryStreamExt;
use object_store::path::Path as OsPath;
use object_store::{ObjectStore as _, ObjectStoreExt as _, PutPayload};
use std::future::Future;
use std::sync::Arc;
use tablesync::backup::ObjectStore;
use tablesync::{Error, Result};

/// How to reach object storage, beyond what the URL and the usual
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`,
/// `GOOGLE_*`, `AZURE_*`) say.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Endpoint of an S3-compatible server (`http://127.0.0.1:9000`,
    /// `https://oss-cn-hangzhou.aliyuncs.com`). Plain `http://` is allowed
    /// only on a loopback address.
    pub endpoint: Option<String>,
}

impl StoreOptions {
    /// Options from the environment: `TABLESYNC_S3_ENDPOINT`.
    pub fn from_env() -> Self {
        StoreOptions {
            endpoint: std::env::var("TABLESYNC_S3_ENDPOINT")
                .ok()
                .filter(|s| !s.is_empty()),
        }
    }
}

/// An [`ObjectStore`] over a bucket (or container) and a key prefix.
pub struct CloudStore {
    inner: Arc<dyn object_store::ObjectStore>,
    prefix: String,
    url: String,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for CloudStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudStore")
            .field("url", &self.url)
            .finish()
    }
}

fn cloud_err(url: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::io_msg(format!("{url}: {what}: {e}"))
}

/// Whether an `http://` endpoint names a loopback host.
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let host_port = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Check an endpoint: https anywhere, http only on loopback.
fn check_endpoint(endpoint: &str) -> Result<bool> {
    if endpoint.starts_with("https://") {
        Ok(false)
    } else if is_loopback_http(endpoint) {
        Ok(true)
    } else {
        Err(Error::invalid(format!(
            "endpoint '{endpoint}' must be https:// (plain http:// only on a loopback address)"
        )))
    }
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// Install rustls' ring provider once (reqwest is built without one).
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl CloudStore {
    /// Open `scheme://bucket[/prefix]` for scheme `s3`, `oss`, `gs` or `az`.
    pub fn open(url: &str, opts: &StoreOptions) -> Result<CloudStore> {
        install_tls_provider();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::invalid(format!("'{url}' is not a URL")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::invalid(format!("'{url}' names no bucket")));
        }
        let prefix = prefix.trim_matches('/').to_string();
        if !prefix.is_empty() {
            check_name(&prefix)?;
        }
        let bad = |e: object_store::Error| {
            Error::invalid(format!("cannot open object storage at '{url}': {e}"))
        };
        let inner: Arc<dyn object_store::ObjectStore> = match scheme {
            "s3" => {
                let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(e) = &opts.endpoint {
                    b = b
                        .with_endpoint(e.trim_end_matches('/'))
                        .with_allow_http(check_endpoint(e)?)
                        .with_virtual_hosted_style_request(false);
                } else if let Some(e) = env(&["AWS_ENDPOINT_URL", "AWS_ENDPOINT"]) {
                    b = b.with_allow_http(check_endpoint(&e)?);
                }
                if env(&["AWS_REGION", "AWS_DEFAULT_REGION"]).is_none() {
                    b = b.with_region("us-east-1");
                }
                Arc::new(b.build().map_err(bad)?)
            }
            "oss" => {
                // Alibaba OSS speaks the S3 API on virtual-hosted URLs:
                // https://BUCKET.oss-REGION.aliyuncs.com.
                let endpoint = opts
                    .endpoint
                    .clone()
                    .or_else(|| env(&["OSS_ENDPOINT", "ALIBABA_CLOUD_OSS_ENDPOINT"]))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "{url}: give the OSS endpoint (--s3-endpoint, TABLESYNC_S3_ENDPOINT or OSS_ENDPOINT), e.g. https://oss-cn-hangzhou.aliyuncs.com"
                        ))
                    })?;
                let allow_http = check_endpoint(&endpoint)?;
                let (sch, host) = endpoint.split_once("://").expect("checked above");
                let host = host.trim_end_matches('/');
                let region = env(&["OSS_REGION", "ALIBABA_CLOUD_REGION_ID"])
                    .unwrap_or_else(|| host.split('.').next().unwrap_or("").to_string());
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_endpoint(format!("{sch}://{bucket}.{host}"))
                    .with_virtual_hosted_style_request(true)
                    .with_allow_http(allow_http)
                    .with_region(region);
                if let Some(k) = env(&["OSS_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"]) {
                    b = b.with_access_key_id(k);
                }
                if let Some(k) = env(&["OSS_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"])
                {
                    b = b.with_secret_access_key(k);
                }
                Arc::new(b.build().map_err(bad)?)
            }
            "gs" => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(bad)?,
            ),
            "az" => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_container_name(bucket)
                    .build()
                    .map_err(bad)?,
            ),
            other => {
                return Err(Error::invalid(format!(
                    "repository URL scheme '{other}://' is not supported (use a directory, file://, s3://, oss://, gs:// or az://)"
                )))
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| cloud_err(url, "starting the I/O runtime", e))?;
        Ok(CloudStore {
            inner,
            prefix,
            url: url.to_string(),
            rt,
        })
    }

    /// The URL this store was opened from.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn key(&self, name: &str) -> Result<OsPath> {
        check_name(name)?;
        let full = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        };
        OsPath::parse(&full).map_err(|e| Error::invalid(format!("bad object name {name:?}: {e}")))
    }

    /// Run a future to completion on the private runtime.
    fn block<F: Future + Send>(&self, f: F) -> F::Output
    where
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            // Inside another runtime: block_on would panic there.
            std::thread::scope(|s| {
                s.spawn(|| self.rt.block_on(f))
                    .join()
                    .expect("object-store thread")
            })
        } else {
            self.rt.block_on(f)
        }
    }
}

impl ObjectStore for CloudStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let key = self.key(name)?;
        let r = self.block(async {
            match self.inner.get(&key).await {
                Ok(g) => g.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        r.map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| cloud_err(&self.url, &format!("get {name}"), e))
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let key = self.key(name)?;
        let payload = PutPayload::from(bytes.to_vec());
        self.block(self.inner.put(&key, payload))
            .map(|_| ())
            .map_err(|e| cloud_err(&self.url, &format!("put {name}"), e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        // object_store lists whole path segments: list the directory the
        // prefix lies in and keep the names that start with it.
        let (dir, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
        let full_dir = match (self.prefix.is_empty(), dir.is_empty()) {
            (true, true) => None,
            (true, false) => Some(dir.to_string()),
            (false, true) => Some(self.prefix.clone()),
            (false, false) => Some(format!("{}/{dir}", self.prefix)),
        };
        let dir_path = full_dir
            .as_deref()
            .map(OsPath::parse)
            .transpose()
            .map_err(|e| Error::invalid(format!("bad prefix {prefix:?}: {e}")))?;
        let metas: Vec<object_store::ObjectMeta> = self
            .block(self.inner.list(dir_path.as_ref()).try_collect())
            .map_err(|e| cloud_err(&self.url, &format!("list {prefix}"), e))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut out: Vec<String> = metas
            .into_iter()
            .filter_map(|m| {
                let k = m.location.to_string();
                k.strip_prefix(&strip).map(str::to_string)
            })
            .filter(|k| k.starts_with(prefix))
            .collect();
        out.sort();
        Ok(out)
    }

    fn delete(&self, name: &str) -> Result<()> {
        let key = self.key(name)?;
        match self.block(self.inner.delete(&key)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(cloud_err(&self.url, &format!("delete {name}"), e)),
        }
    }

    fn exists(&self, name: &str) -> Result<bool> {
        let key = self.key(name)?;
        match self.block(self.inner.head(&key)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(cloud_err(&self.url, &format!("head {name}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_on_loopback() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(is_loopback_http("http://[::1]:9000"));
        assert!(!is_loopback_http("http://10.0.0.1:9000"));
        assert!(!is_loopback_http("http://s3.example.com"));
        assert!(!check_endpoint("https://s3.example.com").unwrap());
        assert!(check_endpoint("http://s3.example.com").is_err());
    }
}
