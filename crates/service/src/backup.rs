//! Backups: a consistent copy of the database taken while the server runs,
//! with the stored files, in one tar stream encrypted to the operator's age
//! recipients. The master key is never in it: whoever holds a backup and not
//! the key reads names and counts, never a sealed field. A restore unpacks
//! into a new directory; the caller checks the audit chain, the tallies and
//! the seals before it calls the restore done (see the `yijia restore`
//! command and docs/backup.md).
//!
//! Nor are the residents' own data keys in it (they are zeroed in the
//! snapshot): they go to one file beside it, `data-keys.age`, replaced at
//! every backup and after every erasure. A restore needs the newest one; a
//! person erased since a backup was taken has no key in it, and their
//! sealed fields in that backup stay closed for good.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Result, ServiceError, Services};

/// The first entry of every backup.
pub const MANIFEST: &str = "yijia-backup.json";
/// The database in a backup (and in a data directory).
pub const DATABASE: &str = "yijia.db";
/// Where the stored files go in a backup (and in a data directory).
pub const FILES: &str = "files";
const FORMAT: u32 = 1;
/// The residents' own keys (wrapped by the master key), beside the backups.
pub const DATA_KEYS: &str = "data-keys.age";
const DATA_KEYS_HEADER: &str = "yijia-data-keys 1";
/// In the keys file, in place of a key: this person was erased.
const ERASED: &str = "-";

/// What a backup says of itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The yijia version that took it.
    pub yijia: String,
    /// RFC 3339, when the database snapshot began: everything committed
    /// before it is in.
    pub taken_at: String,
    /// The ids of the master keys that sealed its personal data (the key
    /// itself is never in a backup).
    pub keys: Vec<String>,
    pub files: usize,
}

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// The encrypted file's size.
    pub bytes: u64,
    /// The database snapshot's size.
    pub database_bytes: u64,
    /// Files the snapshot named that were removed before they were copied.
    pub files_gone: usize,
    /// Residents' keys written to `data-keys.age` beside it.
    pub data_keys: usize,
}

fn io(what: impl Into<String>, e: impl Into<crate::error::BoxError>) -> ServiceError {
    ServiceError::caused(what, e)
}

/// An operator's age recipient (`age1…`), read strictly.
pub fn recipient(s: &str) -> Result<age::x25519::Recipient> {
    s.trim().parse().map_err(|e: &str| {
        ServiceError::invalid(
            "recipient",
            format!("不是 age 公钥(age1…):{e}"),
            format!("not an age public key (age1…): {e}"),
        )
    })
}

/// The identities in an age identity file (`AGE-SECRET-KEY-1…` lines, as
/// `yijia keys backup-keygen` or `age-keygen` writes them).
pub fn identities(path: &Path) -> Result<Vec<age::x25519::Identity>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| io(format!("reading {}", path.display()), e))?,
    );
    let ids: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        .map(|l| l.parse().map_err(|e: &str| ServiceError::internal(format!("{}: {e}", path.display()))))
        .collect::<Result<_>>()?;
    if ids.is_empty() {
        return Err(ServiceError::internal(format!("{} holds no age identity (AGE-SECRET-KEY-1…)", path.display())));
    }
    Ok(ids)
}

const SCRATCH: &str = ".yijia-backup-";

/// Removes what a backup killed half-way left behind (a day old or more:
/// a backup running beside this one keeps its own).
fn remove_stale_scratch(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 24 * 3600);
        if old && e.file_name().to_string_lossy().starts_with(SCRATCH) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Removes a scratch directory on every way out.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the writer thread is handed, in archive order.
enum Part {
    /// A file on disk, under a name in the archive.
    Path(PathBuf, String),
    Bytes(String, Vec<u8>),
}

/// Writes the parts into a tar stream encrypted to the recipients, into
/// `out` (mode 0600); answers the bytes written.
fn write_archive(
    out: &Path,
    recipients: &[age::x25519::Recipient],
    parts: tokio::sync::mpsc::Receiver<Part>,
) -> Result<u64> {
    let mut parts = parts;
    let file = create_private(out)?;
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| io("encrypting the backup", e))?;
    let stream = encryptor
        .wrap_output(std::io::BufWriter::with_capacity(1 << 20, file))
        .map_err(|e| io("encrypting the backup", e))?;
    let mut tar = tar::Builder::new(stream);
    while let Some(part) = parts.blocking_recv() {
        match part {
            Part::Path(path, name) => {
                let mut f = std::fs::File::open(&path).map_err(|e| io(format!("reading {}", path.display()), e))?;
                tar.append_file(&name, &mut f).map_err(|e| io("writing the backup", e))?;
            }
            Part::Bytes(name, bytes) => {
                let mut h = tar::Header::new_gnu();
                h.set_size(bytes.len() as u64);
                h.set_mode(0o600);
                h.set_cksum();
                tar.append_data(&mut h, &name, bytes.as_slice()).map_err(|e| io("writing the backup", e))?;
            }
        }
    }
    let stream = tar.into_inner().map_err(|e| io("writing the backup", e))?;
    let mut w = stream.finish().map_err(|e| io("finishing the backup", e))?;
    w.flush().map_err(|e| io("writing the backup", e))?;
    let file = w.into_inner().map_err(|e| io("writing the backup", e.into_error()))?;
    file.sync_all().map_err(|e| io("writing the backup", e))?;
    Ok(file.metadata().map_err(|e| io("writing the backup", e))?.len())
}

fn create_private(path: &Path) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(|e| io(format!("creating {}", path.display()), e))
}

impl Services {
    /// Takes a backup into `out` (which must not exist) while the server
    /// goes on: the database as of the moment the copy began, then the
    /// stored files (written before the rows that name them, so every
    /// file the copy names is there). Written aside and renamed at the end:
    /// a file named `out` is always a whole backup.
    pub async fn backup(&self, out: &Path, recipients: &[age::x25519::Recipient]) -> Result<BackupReport> {
        if recipients.is_empty() {
            return Err(ServiceError::invalid(
                "recipient",
                "请给出备份加密用的 age 公钥",
                "give the age public key the backup is encrypted to",
            ));
        }
        if out.exists() {
            return Err(ServiceError::conflict(
                format!("{} 已存在,备份不会覆盖它", out.display()),
                format!("{} exists; a backup never overwrites one", out.display()),
            ));
        }
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        remove_stale_scratch(dir);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let scratch = Scratch(dir.join(format!("{SCRATCH}{id}")));
        // the snapshot in it is the database in the clear: for this user only
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&scratch.0).map_err(|e| io(format!("creating {}", scratch.0.display()), e))?;
        let snapshot = scratch.0.join(DATABASE);
        let taken_at = yijia_domain::time::rfc3339(self.now());
        if !self.db.snapshot_into(&snapshot).await? {
            return Err(ServiceError::conflict(
                "PostgreSQL 的数据库请用 pg_dump 备份(见 docs/backup.md)",
                "on PostgreSQL, back the database up with pg_dump (see docs/backup.md)",
            ));
        }
        let database_bytes = std::fs::metadata(&snapshot).map_err(|e| io("reading the snapshot", e))?.len();
        let names = self.files.names().await?;
        let manifest = Manifest {
            format: FORMAT,
            yijia: env!("CARGO_PKG_VERSION").to_owned(),
            taken_at,
            keys: self.keys.key_ids().into_iter().map(str::to_owned).collect(),
            files: names.len(),
        };
        let partial = scratch.0.join("backup.partial");
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let writer = {
            let (partial, recipients) = (partial.clone(), recipients.to_vec());
            tokio::task::spawn_blocking(move || write_archive(&partial, &recipients, rx))
        };
        let feed = async {
            let tx = tx; // owned: dropped when the feed ends, which ends the writer
            let send = |p: Part| tx.send(p);
            send(Part::Bytes(MANIFEST.to_owned(), serde_json::to_vec_pretty(&manifest)?)).await.ok();
            send(Part::Path(snapshot.clone(), DATABASE.to_owned())).await.ok();
            let mut gone = 0;
            for name in &names {
                match self.files.get(name).await {
                    Ok(bytes) => send(Part::Bytes(format!("{FILES}/{name}"), bytes)).await.ok(),
                    // removed since it was listed (a vote round cleared, say)
                    Err(ServiceError::NotFound) => {
                        gone += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
            }
            Ok::<usize, ServiceError>(gone)
        };
        let archive = async {
            let fed = feed.await;
            let bytes = writer.await.map_err(|e| io("writing the backup", e))??;
            Ok::<_, ServiceError>((bytes, fed?))
        };
        // the keys at the same time, read after the snapshot: someone erased
        // meanwhile has no key here
        let keys_file = dir.join(DATA_KEYS);
        let (archived, data_keys) = tokio::join!(archive, self.write_data_keys(&keys_file, recipients));
        let (bytes, files_gone) = archived?;
        if files_gone > 0 {
            tracing::warn!(files_gone, "files removed while the backup was taken are not in it");
        }
        std::fs::rename(&partial, out).map_err(|e| io(format!("writing {}", out.display()), e))?;
        let data_keys = data_keys?;
        Ok(BackupReport { path: out.to_owned(), manifest, bytes, database_bytes, files_gone, data_keys })
    }
}

/// Unpacks a backup into `into`, a directory that must not exist yet, and
/// answers its manifest. Only what a backup holds is taken: the manifest
/// first, the database, and stored files by the names the server makes.
/// On any failure nothing is left behind.
pub fn unpack(file: &Path, identities: &[age::x25519::Identity], into: &Path) -> Result<Manifest> {
    if into.exists() {
        return Err(ServiceError::conflict(
            format!("{} 已存在,请恢复到一个新的目录", into.display()),
            format!("{} exists: restore into a new directory", into.display()),
        ));
    }
    std::fs::create_dir_all(into).map_err(|e| io(format!("creating {}", into.display()), e))?;
    let guard = Scratch(into.to_owned());
    let manifest = unpack_into(file, identities, into)?;
    std::mem::forget(guard);
    Ok(manifest)
}

fn unpack_into(file: &Path, identities: &[age::x25519::Identity], into: &Path) -> Result<Manifest> {
    let f = std::fs::File::open(file).map_err(|e| io(format!("reading {}", file.display()), e))?;
    let decryptor = age::Decryptor::new_buffered(std::io::BufReader::with_capacity(1 << 20, f))
        .map_err(|e| io(format!("{} is not an age-encrypted backup", file.display()), e))?;
    let reader = decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity)).map_err(|e| {
        io(format!("{}: none of the given identities opens it (was it encrypted to another key?)", file.display()), e)
    })?;
    let mut archive = tar::Archive::new(reader);
    let mut manifest: Option<Manifest> = None;
    let mut has_db = false;
    for entry in archive.entries().map_err(|e| io("reading the backup", e))? {
        let mut entry = entry.map_err(|e| io("reading the backup", e))?;
        let name = entry.path().map_err(|e| io("reading the backup", e))?.to_string_lossy().into_owned();
        let target = match name.as_str() {
            MANIFEST => {
                let m: Manifest = serde_json::from_reader(&mut entry).map_err(|e| io("reading the manifest", e))?;
                if m.format != FORMAT {
                    return Err(ServiceError::internal(format!(
                        "backup format {} is not one this yijia reads ({FORMAT})",
                        m.format
                    )));
                }
                manifest = Some(m);
                continue;
            }
            _ if manifest.is_none() => {
                return Err(ServiceError::internal("the backup does not begin with its manifest"));
            }
            DATABASE => {
                has_db = true;
                into.join(DATABASE)
            }
            n => match n.strip_prefix(FILES).and_then(|r| r.strip_prefix('/')) {
                Some(stored) if crate::files::is_stored_name(stored) => {
                    std::fs::create_dir_all(into.join(FILES)).map_err(|e| io("creating the files folder", e))?;
                    into.join(FILES).join(stored)
                }
                _ => return Err(ServiceError::internal(format!("the backup holds an unexpected entry {n:?}"))),
            },
        };
        let mut out = create_private(&target)?;
        std::io::copy(&mut entry, &mut out).map_err(|e| io(format!("writing {}", target.display()), e))?;
        out.sync_all().map_err(|e| io(format!("writing {}", target.display()), e))?;
    }
    match manifest {
        Some(m) if has_db => Ok(m),
        _ => Err(ServiceError::internal("the backup holds no database: it is cut short or not a yijia backup")),
    }
}

impl Services {
    /// Writes every resident's own key (wrapped by the master key) to `out`,
    /// encrypted to the recipients, replacing it whole; how many.
    pub async fn write_data_keys(&self, out: &Path, recipients: &[age::x25519::Recipient]) -> Result<usize> {
        let partial = out.with_extension("age.partial");
        let _ = std::fs::remove_file(&partial);
        // blocks of lines, each with how many it holds
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, String)>(4);
        let written_at = yijia_domain::time::rfc3339(self.now());
        let writer = {
            let (partial, recipients) = (partial.clone(), recipients.to_vec());
            tokio::task::spawn_blocking(move || -> Result<usize> {
                let file = create_private(&partial)?;
                let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                    .map_err(|e| io("encrypting the data keys", e))?;
                let mut w = encryptor
                    .wrap_output(std::io::BufWriter::with_capacity(1 << 20, file))
                    .map_err(|e| io("encrypting the data keys", e))?;
                let fail = |e: std::io::Error| io("writing the data keys", e);
                writeln!(w, "{DATA_KEYS_HEADER} {written_at}").map_err(fail)?;
                let mut n = 0;
                while let Some((lines, block)) = rx.blocking_recv() {
                    writeln!(w, "{block}").map_err(fail)?;
                    n += lines;
                }
                let mut w = w.finish().map_err(fail)?;
                w.flush().map_err(fail)?;
                let file = w.into_inner().map_err(|e| io("writing the data keys", e.into_error()))?;
                file.sync_all().map_err(fail)?;
                Ok(n)
            })
        };
        let feed = async {
            // one snapshot of the keys, read in batches
            let mut read = self.db.read().await?;
            let mut after = 0;
            while let Some((last, block)) = yijia_store::erasure::key_lines(&mut read, after, 5000).await? {
                after = last;
                let lines = block.bytes().filter(|b| *b == b'\n').count() + 1;
                if tx.send((lines, block)).await.is_err() {
                    break;
                }
            }
            // and who was erased, by id and uid with no key (`-`): a restore
            // erases them again, whatever the backup held of them
            let mut after = 0;
            loop {
                let rows = yijia_store::erasure::erased_batch(&mut read, after, 5000).await?;
                let Some(last) = rows.last() else { break };
                after = last.0;
                let block = rows.iter().map(|(id, uid)| format!("{id}\t{uid}\t{ERASED}")).collect::<Vec<_>>();
                if tx.send((block.len(), block.join("\n"))).await.is_err() {
                    break;
                }
            }
            read.commit().await?;
            Ok::<(), ServiceError>(())
        };
        let fed = feed.await;
        drop(tx);
        let n = writer.await.map_err(|e| io("writing the data keys", e))??;
        fed?;
        std::fs::rename(&partial, out).map_err(|e| io(format!("writing {}", out.display()), e))?;
        Ok(n)
    }

    /// After a restore: takes the residents' keys from the newest keys file
    /// (only those of people in this database, by id and uid), then erases
    /// whoever has sealed fields and no key (erased since the backup was
    /// taken), so that they come back nameless. Answers (keys taken, people
    /// erased).
    pub async fn restore_data_keys(
        &self,
        caller: &crate::Caller,
        file: &Path,
        identities: &[age::x25519::Identity],
        not_before: Option<&str>,
    ) -> Result<(usize, usize)> {
        if !caller.is_operator() {
            return Err(ServiceError::forbidden());
        }
        let f = std::fs::File::open(file).map_err(|e| io(format!("reading {}", file.display()), e))?;
        let decryptor = age::Decryptor::new_buffered(std::io::BufReader::with_capacity(1 << 20, f))
            .map_err(|e| io(format!("{} is not an age-encrypted keys file", file.display()), e))?;
        let reader = decryptor
            .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|e| io(format!("{}: none of the given identities opens it", file.display()), e))?;
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(reader));
        let written_at = match lines.next() {
            Some(Ok(h)) if h.starts_with(DATA_KEYS_HEADER) => h[DATA_KEYS_HEADER.len()..].trim().to_owned(),
            _ => return Err(ServiceError::internal(format!("{} is not a yijia data keys file", file.display()))),
        };
        // an older keys file would erase everyone who came after it
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
        if let (Some(backup), Some(keys)) = (not_before.and_then(parse), parse(&written_at))
            && keys < backup
        {
            return Err(ServiceError::conflict(
                format!("密钥文件({written_at})比备份还旧,请用最新的 data-keys.age"),
                format!("the keys file ({written_at}) is older than the backup: give the newest data-keys.age"),
            ));
        }
        let mut erased_since: Vec<(i64, String)> = Vec::new();
        let mut taken = 0;
        let mut batch: Vec<(i64, String, String)> = Vec::with_capacity(5000);
        let flush = async |batch: &mut Vec<(i64, String, String)>| -> Result<usize> {
            if batch.is_empty() {
                return Ok(0);
            }
            let mut tx = self.db.write().await?;
            // only for the same person: a keys file of another database gives nothing
            let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
            let here: std::collections::HashMap<i64, String> =
                yijia_store::residents::uids_of(&mut tx, &ids).await?.into_iter().collect();
            let rows: Vec<(i64, String)> =
                batch.drain(..).filter(|(id, uid, _)| here.get(id) == Some(uid)).map(|(id, _, w)| (id, w)).collect();
            yijia_store::erasure::replace_keys(&mut tx, &rows).await?;
            tx.commit().await?;
            Ok(rows.len())
        };
        for line in lines {
            let line = line.map_err(|e| io("reading the data keys", e))?;
            let mut parts = line.splitn(3, '\t');
            let (Some(id), Some(uid), Some(wrapped)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(ServiceError::internal("a line of the data keys file is cut short"));
            };
            let id = id.parse().map_err(|e| io("a resident id in the data keys file", e))?;
            if wrapped == ERASED {
                erased_since.push((id, uid.to_owned()));
                continue;
            }
            batch.push((id, uid.to_owned(), wrapped.to_owned()));
            if batch.len() == 5000 {
                taken += flush(&mut batch).await?;
                let mut tx = self.db.write().await?;
                taken -= yijia_store::erasure::drop_erased_keys(&mut tx).await? as usize;
                tx.commit().await?;
            }
        }
        taken += flush(&mut batch).await?;
        let mut tx = self.db.write().await?;
        taken -= yijia_store::erasure::drop_erased_keys(&mut tx).await? as usize;
        tx.commit().await?;
        // who has no key any more was erased after the backup was taken
        let mut conn = self.db.conn().await?;
        let mut keyless = yijia_store::erasure::without_key(&mut conn).await?;
        // those the keys file says were erased, when they are these same people
        let ids: Vec<i64> = erased_since.iter().map(|e| e.0).collect();
        let here: std::collections::HashMap<i64, String> =
            yijia_store::residents::uids_of(&mut conn, &ids).await?.into_iter().collect();
        keyless.extend(erased_since.iter().filter(|(id, uid)| here.get(id) == Some(uid)).map(|e| e.0));
        keyless.sort_unstable();
        keyless.dedup();
        drop(conn);
        let now = self.now();
        let mut erased = 0;
        for chunk in keyless.chunks(200) {
            let mut tx = self.db.write().await?;
            let mut gone = Vec::new();
            for id in chunk {
                let Some(r) = yijia_store::residents::get(&mut tx, *id).await? else { continue };
                let why = serde_json::json!({ "why": "restore", "erased": "after this backup was taken" });
                if let Some((_, g)) = self.erase_in(&mut tx, caller, &r, why, now).await? {
                    gone.push(g);
                }
            }
            tx.commit().await?;
            for g in &gone {
                self.after_erasure(g).await;
            }
            erased += gone.len();
        }
        Ok((taken, erased))
    }
}

impl Services {
    /// Whether this database has residents with keys of their own (a
    /// restore of it needs the keys file).
    pub async fn needs_data_keys(&self) -> Result<bool> {
        let mut conn = self.db.conn().await?;
        Ok(!yijia_store::erasure::key_batch(&mut conn, 0, 1).await?.is_empty()
            || !yijia_store::erasure::without_key(&mut conn).await?.is_empty())
    }
}

/// Backups the server takes by itself, into a folder, keeping the newest.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub recipients: Vec<age::x25519::Recipient>,
    /// Between two backups, in ms.
    pub every_ms: i64,
    /// How many to keep; older ones are removed after a new one is whole.
    pub keep: usize,
}

const PREFIX: &str = "yijia-";
const SUFFIX: &str = ".tar.age";

/// When a scheduled backup's name says it was taken (ms), if it is one.
fn taken_at(name: &str) -> Option<i64> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S").ok()?;
    Some(t.and_utc().timestamp_millis())
}

/// The scheduled backups in a folder, oldest first.
fn scheduled_in(dir: &Path) -> Result<Vec<(i64, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io(format!("reading {}", dir.display()), e)),
    };
    for e in entries {
        let e = e.map_err(|e| io(format!("reading {}", dir.display()), e))?;
        if let Some(at) = e.file_name().to_str().and_then(taken_at) {
            found.push((at, e.path()));
        }
    }
    found.sort();
    Ok(found)
}

impl Services {
    /// Takes a scheduled backup when the newest in the folder is older than
    /// the schedule's interval, then removes all but the newest `keep`.
    /// Answers the backup taken, if one was due.
    pub async fn scheduled_backup(&self, s: &Schedule) -> Result<Option<BackupReport>> {
        let now = self.now();
        let before = scheduled_in(&s.dir)?;
        if before.last().is_some_and(|(at, _)| now - at < s.every_ms) {
            return Ok(None);
        }
        std::fs::create_dir_all(&s.dir).map_err(|e| io(format!("creating {}", s.dir.display()), e))?;
        let stamp = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default().format("%Y%m%d-%H%M%S");
        let report = self.backup(&s.dir.join(format!("{PREFIX}{stamp}{SUFFIX}")), &s.recipients).await?;
        let all = scheduled_in(&s.dir)?;
        for (_, old) in all.iter().take(all.len().saturating_sub(s.keep.max(1))) {
            std::fs::remove_file(old).map_err(|e| io(format!("removing {}", old.display()), e))?;
        }
        Ok(Some(report))
    }

    /// Runs the schedule until told to stop, looking once a minute; after a
    /// failure (a full disk, say) it tries again an hour later, not at once.
    pub async fn run_backups(&self, s: Schedule, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut keys_of = None;
        loop {
            if *stop.borrow() {
                return;
            }
            // after an erasure the keys file is written again at once, so
            // that it holds no key of someone erased
            let erased = match self.db.conn().await {
                Ok(mut c) => yijia_store::erasure::last_erased_at(&mut c).await.ok().flatten(),
                Err(_) => None,
            };
            if keys_of.is_some_and(|k| k != erased) {
                match self.write_data_keys(&s.dir.join(DATA_KEYS), &s.recipients).await {
                    Ok(n) => {
                        tracing::info!(keys = n, "data keys written again after an erasure");
                        keys_of = Some(erased);
                    }
                    Err(e) => tracing::error!(error = %crate::error::Report(&e), "writing the data keys"),
                }
            } else {
                keys_of = Some(erased);
            }
            let wait = match self.scheduled_backup(&s).await {
                Ok(Some(r)) => {
                    tracing::info!(path = %r.path.display(), bytes = r.bytes, "backup taken");
                    60
                }
                Ok(None) => 60,
                Err(e) => {
                    tracing::error!(error = %crate::error::Report(&e), "scheduled backup failed; trying again in an hour");
                    3600
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(wait)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_scheduled_backup_is_known_by_its_name_only() {
        assert_eq!(taken_at("yijia-20261205-031500.tar.age"), Some(1_796_440_500_000));
        for other in ["yijia-20261205.tar.age", "yijia-20261205-031500.tar", "x-20261205-031500.tar.age"] {
            assert_eq!(taken_at(other), None, "{other}");
        }
    }

    #[test]
    fn a_recipient_is_read_strictly() {
        let id = age::x25519::Identity::generate();
        let public = id.to_public().to_string();
        assert!(recipient(&format!(" {public} ")).is_ok());
        assert!(matches!(recipient("age1nope"), Err(ServiceError::Invalid(i)) if i.field == "recipient"));
    }
}
