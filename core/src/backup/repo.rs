//! A repository over an [`ObjectStore`]: its configuration and keys, and
//! reading and writing checked chunks and manifests (FORMAT.md §19.1).

use super::chunk::decode_chunk;
use super::config::{RepoConfig, CONFIG_NAME};
use super::crypto::{KdfParams, KeySource, Keys, NONCE_LEN, SALT_LEN};
use super::manifest::{id_hex, BackupKind, Manifest, ObjectId};
use super::object::{decode_object, encode_object, ObjectKind};
use super::store::ObjectStore;
use crate::digest::Digest;
use crate::model::error::{Error, Result};
use sha2::{Digest as _, Sha256};

/// Random bytes a new repository needs: id (16), data key (32), slot salt and nonce (40).
pub const INIT_RANDOM_LEN: usize = 16 + 32 + SALT_LEN + NONCE_LEN;
/// Random bytes a new key slot needs (salt and nonce).
pub const SLOT_RANDOM_LEN: usize = SALT_LEN + NONCE_LEN;

/// Turn a decoding error of the generic codec into a backup error.
pub(crate) fn as_backup(e: Error) -> Error {
    match e {
        Error::Corrupt(m) => Error::BackupCorrupt(m),
        other => other,
    }
}

/// Name of the index object: the ids of every backup written and not pruned.
pub const INDEX_NAME: &str = "index";

fn encode_index(ids: &std::collections::BTreeSet<ObjectId>) -> Vec<u8> {
    let mut p = vec![1u8];
    crate::codec::buf::put_varint(&mut p, ids.len() as u64);
    for id in ids {
        p.extend_from_slice(id);
    }
    p
}

fn decode_index(payload: &[u8]) -> Result<std::collections::BTreeSet<ObjectId>> {
    let mut r = crate::codec::buf::Reader::new(payload, "backup index");
    let v = r.u8()?;
    if v != 1 {
        return Err(Error::UnsupportedVersion(format!(
            "backup index version {v}"
        )));
    }
    let n = r.count()?;
    if n.saturating_mul(32) > r.remaining() {
        return Err(r.error("index longer than its bytes"));
    }
    let mut out = std::collections::BTreeSet::new();
    for _ in 0..n {
        out.insert(r.take(32)?.try_into().expect("32"));
    }
    r.finish()?;
    Ok(out)
}

/// Name of a chunk object.
pub fn chunk_name(id: &ObjectId) -> String {
    let h = id_hex(id);
    format!("chunks/{}/{}", &h[..2], h)
}

/// Name of a manifest object.
pub fn manifest_name(id: &ObjectId) -> String {
    format!("manifests/{}", id_hex(id))
}

fn parse_hex_id(s: &str) -> Option<ObjectId> {
    Digest::from_hex(s).map(|d| d.0)
}

/// One backup as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// Id (64 hex characters).
    pub id: String,
    /// Full or incremental.
    pub kind: BackupKind,
    /// Parent id (hex) for incrementals.
    pub parent: Option<String>,
    /// Wall-clock milliseconds when taken.
    pub created_ms: i64,
    /// Source region.
    pub region: String,
    /// Backup point (HLC).
    pub point: u64,
    /// Earliest restorable stamp of its chain.
    pub covers_from: u64,
    /// Tables.
    pub tables: Vec<String>,
    /// Rows that exist at the point, over all tables.
    pub rows: u64,
    /// Change records held.
    pub records: u64,
    /// Uncompressed bytes referenced.
    pub bytes: u64,
    /// Stored bytes this backup added.
    pub new_bytes: u64,
}

impl BackupInfo {
    /// Summary of a manifest.
    pub fn of(id: &ObjectId, m: &Manifest) -> BackupInfo {
        BackupInfo {
            id: id_hex(id),
            kind: m.kind,
            parent: m.parent.as_ref().map(id_hex),
            created_ms: m.created_ms,
            region: m.region.clone(),
            point: m.point,
            covers_from: m.covers_from,
            tables: m.tables.iter().map(|t| t.schema.name.clone()).collect(),
            rows: m.tables.iter().map(|t| t.rows).sum(),
            records: m.records,
            bytes: m.bytes,
            new_bytes: m.new_bytes,
        }
    }
}

/// An opened backup repository.
pub struct Repository {
    store: Box<dyn ObjectStore>,
    config: RepoConfig,
    keys: Option<Keys>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("encrypted", &self.config.encrypted())
            .finish()
    }
}

impl Repository {
    /// Create a repository in an empty store. `key`: encrypt under this
    /// passphrase or key file; `random` must come from a secure source.
    pub fn init(
        store: Box<dyn ObjectStore>,
        key: Option<(&KeySource, KdfParams)>,
        random: &[u8; INIT_RANDOM_LEN],
    ) -> Result<Repository> {
        if store.exists(CONFIG_NAME)? {
            return Err(Error::ObjectAlreadyExist(
                "a backup repository already exists there".into(),
            ));
        }
        let id: [u8; 16] = random[..16].try_into().expect("16");
        let (slots, keys) = match key {
            None => (Vec::new(), None),
            Some((source, kdf)) => {
                let keys = Keys::from_data_key(random[16..48].try_into().expect("32"));
                let slot = keys.wrap(&id, source, kdf, random[48..].try_into().expect("40"))?;
                (vec![slot], Some(keys))
            }
        };
        let config = RepoConfig { id, slots };
        let bytes = encode_object(
            ObjectKind::Config,
            CONFIG_NAME,
            &config.encode(),
            false,
            None,
        )?;
        let repo = Repository {
            store,
            config,
            keys,
        };
        // The empty index first, the config last: the config is what makes
        // the store a repository, so a crash in between leaves no
        // repository without an index (the next `init` starts over).
        repo.write_index(&Default::default())?;
        repo.store.put(CONFIG_NAME, &bytes)?;
        Ok(repo)
    }

    /// The ids the index lists. A missing or damaged index is `BackupCorrupt`.
    pub fn index(&self) -> Result<std::collections::BTreeSet<ObjectId>> {
        let bytes = self
            .store
            .get(INDEX_NAME)?
            .ok_or_else(|| Error::BackupCorrupt(format!("{INDEX_NAME} is missing")))?;
        let payload = decode_object(ObjectKind::Index, INDEX_NAME, &bytes, self.keys.as_ref())?;
        decode_index(&payload).map_err(as_backup)
    }

    /// Replace the index.
    pub fn write_index(&self, ids: &std::collections::BTreeSet<ObjectId>) -> Result<()> {
        let bytes = encode_object(
            ObjectKind::Index,
            INDEX_NAME,
            &encode_index(ids),
            true,
            self.keys.as_ref(),
        )?;
        self.store.put(INDEX_NAME, &bytes)
    }

    /// Open an existing repository; `key` is required when it is encrypted.
    pub fn open(store: Box<dyn ObjectStore>, key: Option<&KeySource>) -> Result<Repository> {
        let bytes = store.get(CONFIG_NAME)?.ok_or_else(|| {
            Error::ObjectNotExist("no backup repository there (no config object)".into())
        })?;
        let payload = decode_object(ObjectKind::Config, CONFIG_NAME, &bytes, None)?;
        let config = RepoConfig::decode(&payload).map_err(as_backup)?;
        let keys = match (config.encrypted(), key) {
            (false, None) => None,
            (false, Some(_)) => {
                return Err(Error::BackupKeyInvalid(
                    "this repository is not encrypted; give no passphrase or key file".into(),
                ))
            }
            (true, None) => {
                return Err(Error::BackupKeyInvalid(
                    "this repository is encrypted: a passphrase or key file is needed".into(),
                ))
            }
            (true, Some(k)) => Some(Keys::unwrap(&config.id, &config.slots, k)?.0),
        };
        Ok(Repository {
            store,
            config,
            keys,
        })
    }

    /// Whether objects are encrypted.
    pub fn encrypted(&self) -> bool {
        self.config.encrypted()
    }

    /// The store underneath.
    pub fn store(&self) -> &dyn ObjectStore {
        &*self.store
    }

    /// Replace the key slot that `old` opens by one for `new`; the data
    /// key, and so every chunk and manifest, stays as it is.
    pub fn rotate_key(
        &mut self,
        old: &KeySource,
        new: &KeySource,
        kdf: KdfParams,
        random: &[u8; SLOT_RANDOM_LEN],
    ) -> Result<()> {
        if !self.encrypted() {
            return Err(Error::invalid("the repository is not encrypted"));
        }
        let (keys, index) = Keys::unwrap(&self.config.id, &self.config.slots, old)?;
        let slot = keys.wrap(&self.config.id, new, kdf, random)?;
        let mut config = self.config.clone();
        config.slots[index] = slot;
        let bytes = encode_object(
            ObjectKind::Config,
            CONFIG_NAME,
            &config.encode(),
            false,
            None,
        )?;
        self.store.put(CONFIG_NAME, &bytes)?;
        self.config = config;
        Ok(())
    }

    /// Content id of a payload.
    pub fn content_id(&self, payload: &[u8]) -> ObjectId {
        match &self.keys {
            Some(k) => k.content_id(payload),
            None => Sha256::digest(payload).into(),
        }
    }

    /// Store a chunk unless an object of that id exists. Returns its id and
    /// the stored bytes written (0 when it was already there).
    pub fn put_chunk(&self, payload: &[u8]) -> Result<(ObjectId, u64)> {
        let id = self.content_id(payload);
        let name = chunk_name(&id);
        if self.store.exists(&name)? {
            return Ok((id, 0));
        }
        let bytes = encode_object(ObjectKind::Chunk, &name, payload, true, self.keys.as_ref())?;
        self.store.put(&name, &bytes)?;
        Ok((id, bytes.len() as u64))
    }

    /// [`put_chunk`](Self::put_chunk) through the store's deferred put: the
    /// chunk is durable, and visible, only after
    /// [`sync_chunks`](Self::sync_chunks). A backup stages its chunks and
    /// syncs them all before its manifest.
    pub(crate) fn stage_chunk(&self, payload: &[u8]) -> Result<(ObjectId, u64)> {
        let id = self.content_id(payload);
        let name = chunk_name(&id);
        if self.store.exists(&name)? {
            return Ok((id, 0));
        }
        let bytes = encode_object(ObjectKind::Chunk, &name, payload, true, self.keys.as_ref())?;
        self.store.put_deferred(&name, &bytes)?;
        Ok((id, bytes.len() as u64))
    }

    /// Make the chunks staged so far durable and visible.
    pub(crate) fn sync_chunks(&self) -> Result<()> {
        self.store.sync_deferred()
    }

    /// Read a chunk and check it: envelope, authentication, content id, structure.
    pub fn get_chunk(&self, id: &ObjectId) -> Result<Vec<u8>> {
        let name = chunk_name(id);
        let bytes = self
            .store
            .get(&name)?
            .ok_or_else(|| Error::BackupCorrupt(format!("{name} is missing")))?;
        let payload = decode_object(ObjectKind::Chunk, &name, &bytes, self.keys.as_ref())?;
        if self.content_id(&payload) != *id {
            return Err(Error::BackupCorrupt(format!(
                "{name}: content does not match its id"
            )));
        }
        decode_chunk(&payload).map_err(as_backup)?;
        Ok(payload)
    }

    /// Write a manifest (the last step of a backup: until it exists the
    /// backup does not). Returns its id.
    pub fn put_manifest(&self, m: &Manifest) -> Result<ObjectId> {
        let payload = m.encode();
        let id = self.content_id(&payload);
        let name = manifest_name(&id);
        let bytes = encode_object(
            ObjectKind::Manifest,
            &name,
            &payload,
            true,
            self.keys.as_ref(),
        )?;
        let mut index = self.index()?;
        self.store.put(&name, &bytes)?;
        // A crash here leaves a complete backup the index does not list yet:
        // readers accept it; only listed backups that are missing are damage.
        index.insert(id);
        self.write_index(&index)?;
        Ok(id)
    }

    /// Read and check a manifest.
    pub fn manifest(&self, id: &ObjectId) -> Result<Manifest> {
        let name = manifest_name(id);
        let bytes = self
            .store
            .get(&name)?
            .ok_or_else(|| Error::BackupCorrupt(format!("{name} is missing")))?;
        let payload = decode_object(ObjectKind::Manifest, &name, &bytes, self.keys.as_ref())?;
        if self.content_id(&payload) != *id {
            return Err(Error::BackupCorrupt(format!(
                "{name}: content does not match its id"
            )));
        }
        Manifest::decode(&payload).map_err(as_backup)
    }

    /// Ids of every manifest object (names that are not ids are reported).
    pub fn manifest_ids(&self) -> Result<Vec<ObjectId>> {
        self.store
            .list("manifests/")?
            .iter()
            .map(|n| {
                parse_hex_id(&n["manifests/".len()..])
                    .ok_or_else(|| Error::BackupCorrupt(format!("unexpected object {n}")))
            })
            .collect()
    }

    /// Every backup, oldest point first. Fails on any damaged manifest, a
    /// damaged index, or a backup the index lists whose manifest is missing.
    pub fn manifests(&self) -> Result<Vec<(ObjectId, Manifest)>> {
        let ids = self.manifest_ids()?;
        for id in self.index()? {
            if !ids.contains(&id) {
                return Err(Error::BackupCorrupt(format!(
                    "{} is missing (the index lists it)",
                    manifest_name(&id)
                )));
            }
        }
        let mut out = ids
            .into_iter()
            .map(|id| Ok((id, self.manifest(&id)?)))
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|(id, m)| (m.point, m.next_cursor, m.created_ms, *id));
        Ok(out)
    }

    /// Every backup as listed, oldest first.
    pub fn list(&self) -> Result<Vec<BackupInfo>> {
        Ok(self
            .manifests()?
            .iter()
            .map(|(id, m)| BackupInfo::of(id, m))
            .collect())
    }

    /// The id a hex prefix (at least 4 characters) names.
    pub fn resolve(&self, prefix: &str) -> Result<ObjectId> {
        let p = prefix.to_ascii_lowercase();
        if p.len() < 4 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid(format!(
                "backup id '{prefix}' must be at least 4 hex digits"
            )));
        }
        let hits: Vec<ObjectId> = self
            .manifest_ids()?
            .into_iter()
            .filter(|id| id_hex(id).starts_with(&p))
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::ObjectNotExist(format!("no backup '{prefix}'"))),
            _ => Err(Error::invalid(format!("backup id '{prefix}' is ambiguous"))),
        }
    }

    /// The chain ending at `id`: its full backup first.
    pub fn chain(&self, id: &ObjectId) -> Result<Vec<(ObjectId, Manifest)>> {
        let mut out = Vec::new();
        let mut cur = *id;
        loop {
            let m = self.manifest(&cur)?;
            let parent = m.parent;
            if out.len() > 1_000_000 {
                return Err(Error::BackupCorrupt("backup chain has a cycle".into()));
            }
            out.push((cur, m));
            match parent {
                Some(p) => {
                    if !self.store.exists(&manifest_name(&p))? {
                        return Err(Error::BackupCorrupt(format!(
                            "backup {} names parent {} which is missing",
                            id_hex(&cur),
                            id_hex(&p)
                        )));
                    }
                    cur = p
                }
                None => break,
            }
        }
        out.reverse();
        for w in out.windows(2) {
            let (a, b) = (&w[0].1, &w[1].1);
            if b.region != a.region || b.first_cursor != a.next_cursor {
                return Err(Error::BackupCorrupt(format!(
                    "backup {} does not continue its parent",
                    id_hex(&w[1].0)
                )));
            }
        }
        Ok(out)
    }
}
