//! Keys of an encrypted repository: a random data key, wrapped (encrypted)
//! in key slots by keys derived from a passphrase (Argon2id) or a key file.
//! Objects are sealed with XChaCha20-Poly1305 (FORMAT.md §19.3).

use crate::model::error::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest as _, Sha256};

/// Bytes of an XChaCha20 nonce.
pub const NONCE_LEN: usize = 24;
/// Bytes of a Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// Bytes of a key-slot salt.
pub const SALT_LEN: usize = 16;
/// Largest Argon2id memory cost accepted from a repository (KiB, 4 GiB).
pub const MAX_M_COST_KIB: u32 = 4 << 20;
/// Largest Argon2id time cost accepted from a repository.
pub const MAX_T_COST: u32 = 64;

/// Where the key-encryption key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A passphrase, stretched with Argon2id.
    Passphrase(Vec<u8>),
    /// The bytes of a key file (use at least 32 random bytes).
    KeyFile(Vec<u8>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySource::Passphrase(_) => "KeySource::Passphrase(..)",
            KeySource::KeyFile(_) => "KeySource::KeyFile(..)",
        })
    }
}

/// Argon2id costs stored in a passphrase slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// OWASP's recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    /// Cheap costs for tests (never for real data).
    pub fn insecure_for_tests() -> Self {
        KdfParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }
}

/// One way to unwrap the data key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySlot {
    /// `Some` for a passphrase slot, `None` for a key-file slot.
    pub kdf: Option<KdfParams>,
    /// Random salt.
    pub salt: [u8; SALT_LEN],
    /// Random nonce of the wrapping.
    pub nonce: [u8; NONCE_LEN],
    /// The sealed data key (32 bytes + tag).
    pub wrapped: Vec<u8>,
}

/// The unwrapped keys of an encrypted repository.
#[derive(Clone)]
pub struct Keys {
    data_key: [u8; 32],
    id_key: [u8; 32],
    nonce_key: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

fn derive(label: &[u8], key: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update(key);
    h.finalize().into()
}

fn slot_aad(repo_id: &[u8; 16]) -> Vec<u8> {
    let mut aad = b"tablesync.backup.keyslot.v1".to_vec();
    aad.extend_from_slice(repo_id);
    aad
}

/// The key-encryption key of a slot.
fn kek(source: &KeySource, kdf: Option<KdfParams>, salt: &[u8; SALT_LEN]) -> Result<[u8; 32]> {
    match (source, kdf) {
        (KeySource::Passphrase(p), Some(k)) => {
            if k.m_cost_kib > MAX_M_COST_KIB || k.t_cost > MAX_T_COST || k.p_cost > 16 {
                return Err(Error::BackupCorrupt(format!(
                    "key slot asks for Argon2id costs beyond the limits ({k:?})"
                )));
            }
            let params = argon2::Params::new(k.m_cost_kib, k.t_cost, k.p_cost, Some(32))
                .map_err(|e| Error::BackupCorrupt(format!("Argon2id parameters: {e}")))?;
            let a =
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
            let mut out = [0u8; 32];
            a.hash_password_into(p, salt, &mut out)
                .map_err(|e| Error::BackupKeyInvalid(format!("Argon2id: {e}")))?;
            Ok(out)
        }
        (KeySource::KeyFile(bytes), None) => {
            if bytes.is_empty() {
                return Err(Error::BackupKeyInvalid("the key file is empty".into()));
            }
            let mut h = Sha256::new();
            h.update(b"tablesync.backup.keyfile.v1");
            h.update(salt);
            h.update(bytes);
            Ok(h.finalize().into())
        }
        _ => Err(Error::BackupKeyInvalid(
            "this key slot is for the other kind of key".into(),
        )),
    }
}

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

impl Keys {
    /// Keys from a 32-byte data key.
    pub fn from_data_key(data_key: [u8; 32]) -> Self {
        Keys {
            data_key,
            id_key: derive(b"tablesync.backup.id.v1", &data_key),
            nonce_key: derive(b"tablesync.backup.nonce.v1", &data_key),
        }
    }

    /// Wrap the data key into a new slot. `random` supplies the salt and nonce.
    pub fn wrap(
        &self,
        repo_id: &[u8; 16],
        source: &KeySource,
        kdf: KdfParams,
        random: &[u8; SALT_LEN + NONCE_LEN],
    ) -> Result<KeySlot> {
        let kdf = match source {
            KeySource::Passphrase(_) => Some(kdf),
            KeySource::KeyFile(_) => None,
        };
        let salt: [u8; SALT_LEN] = random[..SALT_LEN].try_into().expect("salt");
        let nonce: [u8; NONCE_LEN] = random[SALT_LEN..].try_into().expect("nonce");
        let k = kek(source, kdf, &salt)?;
        let aad = slot_aad(repo_id);
        let wrapped = cipher(&k)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &self.data_key,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::BackupKeyInvalid("sealing the data key failed".into()))?;
        Ok(KeySlot {
            kdf,
            salt,
            nonce,
            wrapped,
        })
    }

    /// Unwrap the data key from whichever slot `source` opens.
    pub fn unwrap(
        repo_id: &[u8; 16],
        slots: &[KeySlot],
        source: &KeySource,
    ) -> Result<(Keys, usize)> {
        let aad = slot_aad(repo_id);
        for (i, s) in slots.iter().enumerate() {
            let matches_kind = matches!(
                (source, s.kdf),
                (KeySource::Passphrase(_), Some(_)) | (KeySource::KeyFile(_), None)
            );
            if !matches_kind {
                continue;
            }
            let k = kek(source, s.kdf, &s.salt)?;
            if let Ok(dk) = cipher(&k).decrypt(
                &XNonce::from(s.nonce),
                Payload {
                    msg: &s.wrapped,
                    aad: &aad,
                },
            ) {
                let dk: [u8; 32] = dk.try_into().map_err(|_| {
                    Error::BackupCorrupt("unwrapped data key is not 32 bytes".into())
                })?;
                return Ok((Keys::from_data_key(dk), i));
            }
        }
        Err(Error::BackupKeyInvalid(
            "the passphrase or key file opens none of the repository's key slots".into(),
        ))
    }

    /// The content id of a plaintext under this key (keyed, so ids reveal nothing without it).
    pub fn content_id(&self, plaintext: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.id_key);
        h.update(plaintext);
        h.finalize().into()
    }

    /// Seal `msg` (a synthetic nonce from the name and the message, so the
    /// same object always encrypts to the same bytes and distinct objects
    /// never share a nonce). Returns `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, aad: &[u8], msg: &[u8]) -> Result<Vec<u8>> {
        let mut h = Sha256::new();
        h.update(self.nonce_key);
        h.update((aad.len() as u64).to_le_bytes());
        h.update(aad);
        h.update(msg);
        let d: [u8; 32] = h.finalize().into();
        let nonce: [u8; NONCE_LEN] = d[..NONCE_LEN].try_into().expect("24");
        let ct = cipher(&self.data_key)
            .encrypt(&XNonce::from(nonce), Payload { msg, aad })
            .map_err(|_| Error::BackupCorrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Open `nonce ‖ ciphertext ‖ tag`; any change is [`Error::BackupCorrupt`].
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::BackupCorrupt("sealed object is truncated".into()));
        }
        let nonce: [u8; NONCE_LEN] = sealed[..NONCE_LEN].try_into().expect("24");
        cipher(&self.data_key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[NONCE_LEN..],
                    aad,
                },
            )
            .map_err(|_| {
                Error::BackupCorrupt(
                    "authentication failed: the object was altered or sealed under another key"
                        .into(),
                )
            })
    }
}
