//! Keys for personal data at rest: AES-256-GCM for sealed fields (with the
//! field and row bound in as associated data, and the key id in front of
//! every ciphertext) and an HMAC-SHA256 blind index for exact search.
//!
//! The keys live in `master.key` in the data directory (mode 0600, created
//! on first start) or come from `YIJIA_MASTER_KEY`; never in the database.
//!
//! A resident's own fields are sealed with a data key of their own (`v2.`),
//! stored wrapped by the master key in `resident_keys`, a table no backup
//! carries: erasing a person destroys that key, and with it every copy of
//! their sealed fields, old backups included (crypto-shredding).

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Result, ServiceError};

pub const KEY_FILE: &str = "master.key";
pub const ENV_KEY: &str = "YIJIA_MASTER_KEY";

type Key = Zeroizing<[u8; 32]>;

/// The keys that open sealed fields; one of them seals new ones.
pub struct Keyring {
    active: String,
    keys: BTreeMap<String, Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("active", &self.active).field("keys", &self.keys.keys()).finish()
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    active: String,
    keys: BTreeMap<String, String>,
}

fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

fn decode_key(b64: &str) -> Result<Key> {
    let bytes =
        Zeroizing::new(STANDARD.decode(b64.trim()).map_err(|_| ServiceError::internal("a key is not valid base64"))?);
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| ServiceError::internal(format!("a key must be 32 bytes, not {}", bytes.len())))?;
    Ok(Zeroizing::new(arr))
}

fn crypto_error(what: &str) -> ServiceError {
    ServiceError::internal(format!("could not {what} a protected field"))
}

impl Keyring {
    /// A keyring of one new random key (tests, and a first start).
    pub fn generate() -> Self {
        let key = Zeroizing::new(rand::random::<[u8; 32]>());
        let id = key_id(&key);
        Self { active: id.clone(), keys: BTreeMap::from([(id, key)]) }
    }

    /// From `YIJIA_MASTER_KEY` (base64 of 32 bytes) when set, else from the
    /// key file in `data_dir`, created with mode 0600 when missing.
    pub fn load_or_create(data_dir: &Path, env_key: Option<&str>) -> Result<Self> {
        if let Some(b64) = env_key.filter(|k| !k.trim().is_empty()) {
            let key = decode_key(b64)?;
            let id = key_id(&key);
            return Ok(Self { active: id.clone(), keys: BTreeMap::from([(id, key)]) });
        }
        let path = data_dir.join(KEY_FILE);
        if path.exists() {
            let text = Zeroizing::new(
                std::fs::read_to_string(&path)
                    .map_err(|e| ServiceError::caused(format!("reading {}", path.display()), e))?,
            );
            let file: KeyFile = serde_json::from_str(&text)
                .map_err(|e| ServiceError::caused(format!("{} is not a key file", path.display()), e))?;
            let mut keys = BTreeMap::new();
            for (id, b64) in &file.keys {
                keys.insert(id.clone(), decode_key(b64)?);
            }
            if !keys.contains_key(&file.active) {
                return Err(ServiceError::internal(format!("{}: the active key is missing", path.display())));
            }
            return Ok(Self { active: file.active, keys });
        }
        let ring = Self::generate();
        ring.save(&path)?;
        Ok(ring)
    }

    /// Writes the key file (mode 0600), replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let file = KeyFile {
            active: self.active.clone(),
            keys: self.keys.iter().map(|(id, k)| (id.clone(), STANDARD.encode(k.as_slice()))).collect(),
        };
        let text = Zeroizing::new(
            serde_json::to_string_pretty(&file).map_err(|e| ServiceError::caused("writing the key file", e))?,
        );
        let tmp = path.with_extension("key.new");
        write_private(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, path).map_err(|e| ServiceError::caused(format!("writing {}", path.display()), e))?;
        Ok(())
    }

    /// Adds a new key and makes it the one that seals; the old ones stay to
    /// open what they sealed until everything is re-sealed.
    pub fn rotate(&mut self) -> &str {
        let key = Zeroizing::new(rand::random::<[u8; 32]>());
        let id = key_id(&key);
        self.keys.insert(id.clone(), key);
        self.active = id;
        &self.active
    }

    /// Forgets every key but the active one (after re-sealing).
    pub fn retire_old(&mut self) {
        let active = self.active.clone();
        self.keys.retain(|id, _| *id == active);
    }

    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.keys().map(String::as_str).collect()
    }

    pub fn active_id(&self) -> &str {
        &self.active
    }

    fn cipher(&self, id: &str) -> Result<Aes256Gcm> {
        let key = self.keys.get(id).ok_or_else(|| ServiceError::internal(format!("no key with id {id}")))?;
        Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| crypto_error("load the key for"))
    }

    /// `v1.<key id>.<nonce and ciphertext, base64url>`; `aad` names the
    /// field and the row (`residents.id_number:42`), so that a ciphertext
    /// moved to another field or row does not open.
    pub fn seal(&self, aad: &str, plain: &str) -> Result<String> {
        let nonce = Nonce::generate();
        let ct = self
            .cipher(&self.active)?
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| crypto_error("seal"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v1.{}.{}", self.active, URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, aad: &str, sealed: &str) -> Result<String> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(crypto_error("read"));
        };
        open_body(&self.cipher(id)?, aad, body)
    }

    /// Whether a sealed value was sealed with the active key (a person's
    /// own key is re-wrapped, not its values re-sealed).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.starts_with("v2.") || sealed.split('.').nth(1) == Some(self.active.as_str())
    }

    /// A new data key for the resident `uid`, and that key wrapped by the
    /// active master key for `resident_keys`.
    pub fn new_data_key(&self, uid: &str) -> Result<(DataKey, String)> {
        let key = DataKey(Zeroizing::new(rand::random::<[u8; 32]>()));
        let wrapped = self.seal(&aad_data_key(uid), &STANDARD.encode(key.0.as_slice()))?;
        Ok((key, wrapped))
    }

    /// The resident's data key from its wrapped form.
    pub fn unwrap_data_key(&self, uid: &str, wrapped: &str) -> Result<DataKey> {
        let b64 = Zeroizing::new(self.open(&aad_data_key(uid), wrapped)?);
        Ok(DataKey(decode_key(&b64)?))
    }

    /// The data key wrapped again by the active master key (rotation).
    pub fn rewrap_data_key(&self, uid: &str, wrapped: &str) -> Result<String> {
        let b64 = Zeroizing::new(self.open(&aad_data_key(uid), wrapped)?);
        self.seal(&aad_data_key(uid), &b64)
    }

    /// Opens a field of a resident: sealed by the master key (`v1.`, from
    /// before people had keys of their own) or by their own key (`v2.`).
    /// Without their key (erased) a `v2.` value does not open.
    pub fn open_with(&self, own: Option<&DataKey>, aad: &str, sealed: &str) -> Result<String> {
        match (sealed.strip_prefix("v2."), own) {
            (None, _) => self.open(aad, sealed),
            (Some(body), Some(k)) => k.open(aad, body),
            (Some(_), None) => Err(ServiceError::internal("this person's data key is gone (erased)")),
        }
    }
}

fn aad_data_key(uid: &str) -> String {
    format!("resident_keys:{uid}")
}

/// One resident's own key for their sealed fields.
#[derive(Clone)]
pub struct DataKey(Key);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey")
    }
}

impl DataKey {
    fn cipher(&self) -> Result<Aes256Gcm> {
        Aes256Gcm::new_from_slice(self.0.as_slice()).map_err(|_| crypto_error("load the key for"))
    }

    /// `v2.<nonce and ciphertext, base64url>`, the field and row bound in as
    /// with the master key.
    pub fn seal(&self, aad: &str, plain: &str) -> Result<String> {
        let nonce = Nonce::generate();
        let ct = self
            .cipher()?
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| crypto_error("seal"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v2.{}", URL_SAFE_NO_PAD.encode(out)))
    }

    fn open(&self, aad: &str, body: &str) -> Result<String> {
        open_body(&self.cipher()?, aad, body)
    }
}

fn open_body(cipher: &Aes256Gcm, aad: &str, body: &str) -> Result<String> {
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| crypto_error("decode"))?;
    if bytes.len() < 12 + 16 {
        return Err(crypto_error("decode"));
    }
    let (nonce, ct) = bytes.split_at(12);
    let nonce = Nonce::try_from(nonce).map_err(|_| crypto_error("decode"))?;
    let plain = cipher.decrypt(&nonce, Payload { msg: ct, aad: aad.as_bytes() }).map_err(|_| crypto_error("open"))?;
    String::from_utf8(plain).map_err(|_| crypto_error("decode"))
}

impl Keyring {
    /// The blind index of a normalised value: the same value always gives
    /// the same index (so it can be searched), but without the key nobody
    /// can go back from the index to the value.
    pub fn blind(&self, field: &str, normalized: &str) -> Result<String> {
        let key = self.keys.get(&self.active).ok_or_else(|| crypto_error("index"))?;
        // The index key is derived from the active key, so that the two are
        // never the same key used for two purposes.
        let mut derive =
            <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key.as_slice()).map_err(|_| crypto_error("index"))?;
        derive.update(b"yijia blind index v1");
        let index_key: Zeroizing<[u8; 32]> = Zeroizing::new(derive.finalize().into_bytes().into());
        let mut mac =
            <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(index_key.as_slice()).map_err(|_| crypto_error("index"))?;
        mac.update(field.as_bytes());
        mac.update(b"\0");
        mac.update(normalized.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ServiceError::caused(format!("creating {}", path.display()), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| ServiceError::caused(format!("writing {}", path.display()), e))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| ServiceError::caused(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_with_the_row_bound_in() {
        let k = Keyring::generate();
        let s = k.seal("residents.id_number:1", "11010519491231002X").unwrap();
        assert!(s.starts_with(&format!("v1.{}.", k.active_id())));
        assert!(!s.contains("19491231"));
        assert_eq!(k.open("residents.id_number:1", &s).unwrap(), "11010519491231002X");
        assert!(k.open("residents.id_number:2", &s).is_err(), "another row");
        assert!(k.open("residents.phone:1", &s).is_err(), "another field");
        assert_ne!(s, k.seal("residents.id_number:1", "11010519491231002X").unwrap(), "a fresh nonce each time");
    }

    #[test]
    fn rotation_keeps_old_values_readable_until_retired() {
        let mut k = Keyring::generate();
        let old = k.seal("f:1", "x").unwrap();
        let first = k.active_id().to_owned();
        let new_id = k.rotate().to_owned();
        assert_ne!(first, new_id);
        assert!(!k.is_current(&old));
        assert_eq!(k.open("f:1", &old).unwrap(), "x");
        let resealed = k.seal("f:1", "x").unwrap();
        assert!(k.is_current(&resealed));
        k.retire_old();
        assert!(k.open("f:1", &old).is_err());
        assert_eq!(k.open("f:1", &resealed).unwrap(), "x");
    }

    #[test]
    fn a_persons_own_key_opens_their_fields_and_nothing_once_destroyed() {
        let mut k = Keyring::generate();
        let (own, wrapped) = k.new_data_key("u1").unwrap();
        let s = own.seal("residents.phone:u1", "13812345678").unwrap();
        assert!(s.starts_with("v2.") && k.is_current(&s));
        assert!(!format!("{own:?}").contains("1381"));
        let back = k.unwrap_data_key("u1", &wrapped).unwrap();
        assert_eq!(k.open_with(Some(&back), "residents.phone:u1", &s).unwrap(), "13812345678");
        assert!(k.open_with(Some(&back), "residents.phone:u2", &s).is_err(), "another row");
        assert!(k.unwrap_data_key("u2", &wrapped).is_err(), "a key is bound to its person");
        assert!(k.open_with(None, "residents.phone:u1", &s).is_err(), "without the key, nothing");
        let (other, _) = k.new_data_key("u1").unwrap();
        assert!(k.open_with(Some(&other), "residents.phone:u1", &s).is_err());
        // master-sealed values still open, with or without a person's key
        let old = k.seal("residents.phone:u1", "x").unwrap();
        assert_eq!(k.open_with(Some(&back), "residents.phone:u1", &old).unwrap(), "x");
        // rotation re-wraps the key; the values stay as they are
        k.rotate();
        let rewrapped = k.rewrap_data_key("u1", &wrapped).unwrap();
        k.retire_old();
        assert!(k.unwrap_data_key("u1", &wrapped).is_err());
        let again = k.unwrap_data_key("u1", &rewrapped).unwrap();
        assert_eq!(k.open_with(Some(&again), "residents.phone:u1", &s).unwrap(), "13812345678");
    }

    #[test]
    fn blind_indexes_are_stable_keyed_and_per_field() {
        let k = Keyring::generate();
        let a = k.blind("phone", "13812345678").unwrap();
        assert_eq!(a, k.blind("phone", "13812345678").unwrap());
        assert_ne!(a, k.blind("id_number", "13812345678").unwrap());
        assert_ne!(a, Keyring::generate().blind("phone", "13812345678").unwrap());
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = Keyring::load_or_create(dir.path(), None).unwrap();
        let path = dir.path().join(KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let sealed = k1.seal("f:1", "secret").unwrap();
        let k2 = Keyring::load_or_create(dir.path(), None).unwrap();
        assert_eq!(k2.open("f:1", &sealed).unwrap(), "secret");
        assert!(!format!("{k2:?}").contains(&std::fs::read_to_string(&path).unwrap()[40..60]));
        // the environment wins over the file
        let env = STANDARD.encode([7u8; 32]);
        let k3 = Keyring::load_or_create(dir.path(), Some(&env)).unwrap();
        assert!(k3.open("f:1", &sealed).is_err());
        assert!(Keyring::load_or_create(dir.path(), Some("not base64!")).is_err());
    }
}
