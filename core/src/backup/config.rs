//! The repository's `config` object: format version, id and key slots
//! (FORMAT.md §19.4).

use super::crypto::{KdfParams, KeySlot, NONCE_LEN, SALT_LEN};
use crate::codec::buf::{put_bytes, put_varint, Reader};
use crate::model::error::{Error, Result};

/// Repository format version this build writes (it reads 1 and 2; a
/// version 1 repository is continued with version 2 manifests).
pub const REPO_FORMAT_VERSION: u8 = 2;
/// Name of the configuration object.
pub const CONFIG_NAME: &str = "config";

/// What a repository's `config` object says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoConfig {
    /// Random id; bound into every key slot.
    pub id: [u8; 16],
    /// Key slots; empty for an unencrypted repository.
    pub slots: Vec<KeySlot>,
}

impl RepoConfig {
    /// Whether objects are sealed.
    pub fn encrypted(&self) -> bool {
        !self.slots.is_empty()
    }

    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![REPO_FORMAT_VERSION];
        p.extend_from_slice(&self.id);
        p.push(1); // compression: lz4
        p.push(u8::from(self.encrypted())); // 1: XChaCha20-Poly1305
        if self.encrypted() {
            put_varint(&mut p, self.slots.len() as u64);
            for s in &self.slots {
                match s.kdf {
                    Some(k) => {
                        p.push(1);
                        put_varint(&mut p, k.m_cost_kib as u64);
                        put_varint(&mut p, k.t_cost as u64);
                        put_varint(&mut p, k.p_cost as u64);
                    }
                    None => p.push(2),
                }
                p.extend_from_slice(&s.salt);
                p.extend_from_slice(&s.nonce);
                put_bytes(&mut p, &s.wrapped);
            }
        }
        p
    }

    /// Parse a payload.
    pub fn decode(payload: &[u8]) -> Result<RepoConfig> {
        let mut r = Reader::new(payload, "backup config");
        let v = r.u8()?;
        if !(1..=REPO_FORMAT_VERSION).contains(&v) {
            return Err(Error::UnsupportedVersion(format!(
                "backup repository format {v} (this build reads 1 to {REPO_FORMAT_VERSION})"
            )));
        }
        let id: [u8; 16] = r.take(16)?.try_into().expect("16");
        let compression = r.u8()?;
        if compression != 1 {
            return Err(Error::UnsupportedVersion(format!(
                "backup compression {compression}"
            )));
        }
        let enc = r.u8()?;
        let mut slots = Vec::new();
        match enc {
            0 => {}
            1 => {
                let n = r.count()?;
                if n == 0 {
                    return Err(r.error("an encrypted repository has no key slot"));
                }
                for _ in 0..n {
                    let kdf = match r.u8()? {
                        1 => {
                            let mut f = || -> Result<u32> {
                                u32::try_from(r.varint()?)
                                    .map_err(|_| r.error("Argon2 cost too large"))
                            };
                            Some(KdfParams {
                                m_cost_kib: f()?,
                                t_cost: f()?,
                                p_cost: f()?,
                            })
                        }
                        2 => None,
                        t => return Err(Error::UnsupportedVersion(format!("key slot type {t}"))),
                    };
                    let salt: [u8; SALT_LEN] = r.take(SALT_LEN)?.try_into().expect("salt");
                    let nonce: [u8; NONCE_LEN] = r.take(NONCE_LEN)?.try_into().expect("nonce");
                    let wrapped = r.bytes()?.to_vec();
                    slots.push(KeySlot {
                        kdf,
                        salt,
                        nonce,
                        wrapped,
                    });
                }
            }
            e => return Err(Error::UnsupportedVersion(format!("backup encryption {e}"))),
        }
        r.finish()?;
        Ok(RepoConfig { id, slots })
    }
}
