//! Request authentication and response signing, as the SDKs compute them.
//!
//! Request (signature v2): `x-ots-signature = base64(HMAC-SHA1(secret,
//! "/" + API + "\nPOST\n" + sorted_query + "\n" + canonical_headers + "\n"))`,
//! where `canonical_headers` are the `x-ots-*` headers other than the
//! signature itself, as `name:value` (name lower-case, value trimmed), sorted
//! and joined with `\n`. Signature v4 (`x-ots-signaturev4`) uses HMAC-SHA256
//! over the same string plus `"ots"`, keyed by a key derived from the secret,
//! the sign date and the region. The response carries `Authorization: OTS
//! id:base64(HMAC-SHA1(key, canonical_response_headers + "\n/" + API))`.

use crate::error::OtsError;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use std::collections::HashMap;

type HmacSha1 = Hmac<sha1::Sha1>;
type HmacSha256 = Hmac<sha2::Sha256>;

/// Largest accepted difference between the request's `x-ots-date` and now.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// Access keys the server accepts: id → secret.
#[derive(Clone, Debug, Default)]
pub struct AccessKeys(HashMap<String, String>);

impl AccessKeys {
    /// Keys from `(id, secret)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        AccessKeys(pairs.into_iter().collect())
    }

    /// Parse a key file: one `ACCESS_KEY_ID:ACCESS_KEY_SECRET` a line; blank
    /// lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                    keys.insert(id.to_string(), secret.to_string());
                }
                _ => {
                    return Err(format!(
                        "line {}: expected ACCESS_KEY_ID:ACCESS_KEY_SECRET",
                        i + 1
                    ))
                }
            }
        }
        if keys.is_empty() {
            return Err("no access key in the file".into());
        }
        Ok(AccessKeys(keys))
    }

    fn secret(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <HmacSha1 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// Base64 of the MD5 of `body` (`x-ots-contentmd5`).
pub fn content_md5(body: &[u8]) -> String {
    use md5::Digest;
    b64(&md5::Md5::digest(body))
}

/// The `x-ots-*` headers, lower-cased names, as `name:value` sorted and joined by `\n`.
fn canonical_headers<'a>(
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    skip: &[&str],
) -> String {
    let mut items: Vec<String> = headers
        .filter_map(|(k, v)| {
            let k = k.to_ascii_lowercase();
            (k.starts_with("x-ots-") && !skip.contains(&k.as_str()))
                .then(|| format!("{k}:{}", v.trim()))
        })
        .collect();
    items.sort();
    items.join("\n")
}

/// What a verified request established: the access key id and the key that
/// signs the response.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Access key id of the caller.
    pub access_key_id: String,
    /// Key of the response signature (the secret, or the v4 derived key).
    pub signing_key: Vec<u8>,
}

/// The request's header values by lower-case name.
pub struct RequestHeaders<'a> {
    /// Pairs as received.
    pub pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> RequestHeaders<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
    fn require(&self, name: &str) -> Result<&'a str, OtsError> {
        self.get(name)
            .ok_or_else(|| OtsError::invalid(format!("Missing header: '{name}'.")))
    }
}

/// Check a request's headers, date, body MD5, instance and signature.
pub fn verify_request(
    keys: &AccessKeys,
    instance: &str,
    path: &str,
    query: &str,
    headers: &RequestHeaders<'_>,
    body: &[u8],
    now_ms: i64,
) -> Result<Verified, OtsError> {
    let date = headers.require("x-ots-date")?;
    headers.require("x-ots-apiversion")?;
    let id = headers.require("x-ots-accesskeyid")?;
    let inst = headers.require("x-ots-instancename")?;
    let md5 = headers.require("x-ots-contentmd5")?;
    let v4 = headers.get("x-ots-signaturev4");
    let signature = match v4 {
        Some(s) => s,
        None => headers.require("x-ots-signature")?,
    };
    let when = parse_iso8601_ms(date)
        .ok_or_else(|| OtsError::invalid(format!("Invalid date format: {date}.")))?;
    if (when - now_ms).abs() > MAX_SKEW_SECS * 1000 {
        return Err(OtsError::auth(format!(
            "Mismatch between system time and x-ots-date: {date}."
        )));
    }
    let secret = keys
        .secret(id)
        .ok_or_else(|| OtsError::auth("The AccessKeyID does not exist."))?;
    if inst != instance {
        return Err(OtsError::auth("The instance is not found."));
    }
    if md5 != content_md5(body) {
        return Err(OtsError::auth(
            "Mismatch between MD5 value of request body and x-ots-contentmd5 in header.",
        ));
    }
    let mut string = signing_string(path, query, &headers.pairs);
    let (expected, signing_key) = if v4.is_some() {
        let date = headers.require("x-ots-signdate")?;
        let region = headers.require("x-ots-signregion")?;
        let key = v4_signing_key(secret, date, region);
        string.push_str("ots");
        (b64(&hmac_sha256(&key, string.as_bytes())), key)
    } else {
        (
            b64(&hmac_sha1(secret.as_bytes(), string.as_bytes())),
            secret.as_bytes().to_vec(),
        )
    };
    if expected != signature {
        return Err(OtsError::auth("Signature mismatch."));
    }
    Ok(Verified {
        access_key_id: id.to_string(),
        signing_key,
    })
}

/// The string a request signature covers: `path`, `POST`, the sorted query
/// and the canonical `x-ots-*` headers (the signature headers left out).
pub fn signing_string(path: &str, query: &str, headers: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    let sorted_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{path}\nPOST\n{sorted_query}\n{}\n",
        canonical_headers(
            headers.iter().copied(),
            &["x-ots-signature", "x-ots-signaturev4"]
        )
    )
}

/// A client's `x-ots-signature` (v2) over `headers` for `path`.
pub fn request_signature(secret: &str, path: &str, headers: &[(&str, &str)]) -> String {
    b64(&hmac_sha1(
        secret.as_bytes(),
        signing_string(path, "", headers).as_bytes(),
    ))
}

/// The v4 signing key: base64 of an HMAC-SHA256 chain over the sign date,
/// the region, `ots` and `aliyun_v4_request`, starting from `aliyun_v4` + secret.
fn v4_signing_key(secret: &str, sign_date: &str, region: &str) -> Vec<u8> {
    let k = format!("aliyun_v4{secret}");
    let k = hmac_sha256(k.as_bytes(), sign_date.as_bytes());
    let k = hmac_sha256(&k, region.as_bytes());
    let k = hmac_sha256(&k, b"ots");
    let k = hmac_sha256(&k, b"aliyun_v4_request");
    b64(&k).into_bytes()
}

/// The response's `Authorization` value over its `x-ots-*` headers.
pub fn response_authorization(
    access_key_id: &str,
    signing_key: &[u8],
    path: &str,
    headers: &[(&str, &str)],
) -> String {
    let string = format!(
        "{}\n{path}",
        canonical_headers(headers.iter().copied(), &[])
    );
    format!(
        "OTS {access_key_id}:{}",
        b64(&hmac_sha1(signing_key, string.as_bytes()))
    )
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.fff]Z` to Unix milliseconds.
pub fn parse_iso8601_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.ends_with('Z') || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut ms = 0;
    let rest = &s[19..s.len() - 1];
    if !rest.is_empty() {
        let frac = rest.strip_prefix('.')?;
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{frac:0<3}");
        ms = padded[..3].parse::<i64>().ok()?;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Format Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.fffZ` (`x-ots-date`).
pub fn format_iso8601_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for ms in [0, 1_700_000_000_123, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(parse_iso8601_ms(&format_iso8601_ms(ms)), Some(ms));
        }
        assert_eq!(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            parse_iso8601_ms("2023-11-14T22:13:20.000Z"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_iso8601_ms("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000)
        );
        for bad in [
            "",
            "2023-11-14 22:13:20.000Z",
            "2023-13-14T22:13:20.000Z",
            "2023-11-14T22:13:20.000",
        ] {
            assert_eq!(parse_iso8601_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn key_file_parses_and_rejects() {
        let k = AccessKeys::parse("# comment\nid1:secret:with:colons\n\nid2:s2\n").unwrap();
        assert_eq!(k.secret("id1"), Some("secret:with:colons"));
        assert_eq!(k.secret("id2"), Some("s2"));
        assert!(AccessKeys::parse("nocolon\n").is_err());
        assert!(AccessKeys::parse("\n# only a comment\n").is_err());
    }

    #[test]
    fn md5_is_base64_of_the_digest() {
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
