//! `yijia backup`, `yijia restore` and `yijia keys backup-keygen`: the
//! operator's side of `yijia_service::backup`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use yijia_service::backup::{self, Manifest};
use yijia_service::keys::{ENV_KEY, KEY_FILE, Keyring};
use yijia_service::{Caller, Services, SystemClock};

use crate::config::Config;
use crate::{open, service_error, services};

/// The recipients given on the command line, else those of the configuration.
pub fn recipients(given: &[String], cfg: &Config) -> Result<Vec<age::x25519::Recipient>> {
    let list: Vec<String> = if given.is_empty() {
        cfg.backup_recipients.as_deref().unwrap_or_default().split(',').map(str::to_owned).collect()
    } else {
        given.to_vec()
    };
    let list: Vec<_> = list
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(backup::recipient)
        .collect::<Result<_, _>>()
        .map_err(service_error)?;
    if list.is_empty() {
        bail!(
            "no recipient: give --recipient age1… (or set backup_recipients); make a key pair with `yijia keys backup-keygen`"
        );
    }
    Ok(list)
}

pub async fn take(cfg: &Config, out: &Path, given: &[String]) -> Result<()> {
    let recipients = recipients(given, cfg)?;
    // the key that sealed the data, never a new one made here by mistake
    let env_key = std::env::var(ENV_KEY).is_ok_and(|k| !k.trim().is_empty());
    if !env_key && !cfg.data_dir.join(KEY_FILE).exists() {
        bail!(
            "no master key: neither {ENV_KEY} nor {} (give the server's key, so the backup names the key that sealed it)",
            cfg.data_dir.join(KEY_FILE).display()
        );
    }
    let svc = services(cfg, open(cfg).await?)?;
    let started = std::time::Instant::now();
    let r = svc.backup(out, &recipients).await.map_err(service_error)?;
    println!(
        "backup written to {} ({} bytes; database {} bytes, {} file(s); taken at {}) in {:.1} s",
        r.path.display(),
        r.bytes,
        r.database_bytes,
        r.manifest.files,
        r.manifest.taken_at,
        started.elapsed().as_secs_f64()
    );
    if r.files_gone > 0 {
        println!("{} file(s) removed while it was taken are not in it", r.files_gone);
    }
    println!(
        "the residents' own keys ({}) went to {} beside it: a restore needs the newest one",
        r.data_keys,
        out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join(backup::DATA_KEYS).display()
    );
    println!("it does not hold the master key: keep a copy of {KEY_FILE} apart from it");
    Ok(())
}

/// `yijia keys export-data`: the residents' own keys into one file.
pub async fn export_data_keys(cfg: &Config, out: &Path, given: &[String]) -> Result<()> {
    let recipients = recipients(given, cfg)?;
    let svc = services(cfg, open(cfg).await?)?;
    let n = svc.write_data_keys(out, &recipients).await.map_err(service_error)?;
    println!("{n} residents' keys written to {}", out.display());
    Ok(())
}

/// `yijia keys load-data`: the keys read back; those without one erased.
pub async fn load_data_keys(cfg: &Config, file: &Path, identity: &Path) -> Result<()> {
    let ids = backup::identities(identity).map_err(service_error)?;
    let svc = services(cfg, open(cfg).await?)?;
    let (taken, erased) = svc.restore_data_keys(&Caller::operator(), file, &ids, None).await.map_err(service_error)?;
    println!("residents' own keys: {taken} taken from {}", file.display());
    if erased > 0 {
        println!("{erased} person(s) without a key (erased since) erased here too");
    }
    Ok(())
}

/// Writes a new age identity (mode 0600) and prints its public key.
pub fn keygen(out: &Path) -> Result<()> {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = format!(
        "# yijia backup identity: it opens every backup encrypted to\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(out).with_context(|| format!("creating {} (it must not exist)", out.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!("{public}");
    eprintln!("identity written to {}: keep it off the server; backups are encrypted to the key above", out.display());
    Ok(())
}

/// Restores a backup into the (new or empty) data directory, and says done
/// only once the audit chain, the tallies and the seals check out;
/// otherwise nothing is left behind.
/// The keys a restore needs besides the backup.
pub struct RestoreKeys<'a> {
    /// The age identity that opens the backup and the keys file.
    pub identity: &'a Path,
    pub master_key: Option<&'a Path>,
    /// The newest `data-keys.age` (not needed for a backup from before
    /// residents had keys of their own).
    pub data_keys: Option<&'a Path>,
}

pub async fn restore(cfg: &Config, file: &Path, keys: &RestoreKeys<'_>) -> Result<()> {
    let (identity, master_key) = (keys.identity, keys.master_key);
    if !cfg.database_url().starts_with("sqlite:") {
        bail!("restore works on SQLite; on PostgreSQL use pg_restore (see docs/backup.md)");
    }
    let target = cfg.data_dir.clone();
    if target.exists() && std::fs::read_dir(&target)?.next().is_some() {
        bail!("{} is not empty: restore into a new data directory", target.display());
    }
    let env_key = std::env::var(ENV_KEY).ok().filter(|k| !k.trim().is_empty());
    if master_key.is_none() && env_key.is_none() {
        bail!(
            "a backup never holds the master key: give --master-key (a copy of the {KEY_FILE} that sealed it) or set {ENV_KEY}"
        );
    }
    let ids = backup::identities(identity).map_err(service_error)?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "data".into());
    let scratch = target.with_file_name(format!(".{name}.restoring-{}", std::process::id()));
    let started = std::time::Instant::now();
    let manifest = {
        let (file, scratch) = (file.to_owned(), scratch.clone());
        tokio::task::spawn_blocking(move || backup::unpack(&file, &ids, &scratch))
            .await
            .context("unpacking the backup")?
            .map_err(service_error)?
    };
    let checked = check(cfg, &scratch, &manifest, keys, env_key.as_deref()).await;
    if let Err(e) = checked {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(e.context("the restore is not done; nothing was kept"));
    }
    if target.exists() {
        std::fs::remove_dir(&target).with_context(|| format!("replacing the empty {}", target.display()))?;
    }
    std::fs::rename(&scratch, &target).with_context(|| format!("moving the restore into {}", target.display()))?;
    println!(
        "restored the backup of {} into {} in {:.1} s: start the server with --data-dir {}",
        manifest.taken_at,
        target.display(),
        started.elapsed().as_secs_f64(),
        target.display()
    );
    Ok(())
}

async fn check(cfg: &Config, dir: &Path, m: &Manifest, keys: &RestoreKeys<'_>, env_key: Option<&str>) -> Result<()> {
    let master_key = keys.master_key;
    if let Some(k) = master_key {
        let dest = dir.join(KEY_FILE);
        std::fs::copy(k, &dest).with_context(|| format!("copying {}", k.display()))?;
        #[cfg(unix)]
        std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    let ring =
        Keyring::load_or_create(dir, if master_key.is_some() { None } else { env_key }).map_err(service_error)?;
    let have = ring.key_ids();
    if let Some(missing) = m.keys.iter().find(|k| !have.contains(&k.as_str())) {
        bail!("this master key ({}) did not seal the backup: it needs key {missing}", have.join(", "));
    }
    let restored = Config { data_dir: dir.to_owned(), database_url: None, ..cfg.clone() };
    let db = open(&restored).await?;
    let settings = restored.settings().map_err(anyhow::Error::msg)?;
    let svc = Services::new(db, Arc::new(SystemClock), settings, Arc::new(ring))
        .with_files(Arc::new(yijia_service::files::LocalFolder::new(dir.join(backup::FILES))));
    let result = async {
        let ids = backup::identities(keys.identity).map_err(service_error)?;
        match keys.data_keys {
            Some(file) => {
                let (taken, erased) = svc
                    .restore_data_keys(&Caller::operator(), file, &ids, Some(&m.taken_at))
                    .await
                    .map_err(service_error)?;
                println!("residents' own keys: {taken} taken from {}", file.display());
                if erased > 0 {
                    println!("{erased} person(s) erased after this backup was taken stay erased");
                }
            }
            // a backup from before residents had keys of their own needs none
            None if svc.needs_data_keys().await.map_err(service_error)? => {
                bail!("this backup holds residents' own keys: give the newest data-keys.age with --data-keys")
            }
            None => println!("no residents' own keys in this backup"),
        }
        verify(&svc).await
    }
    .await;
    svc.db.close().await;
    result
}

async fn verify(svc: &Services) -> Result<()> {
    match svc.audit_verify().await.map_err(service_error)? {
        yijia_service::audit::Verification::Intact { entries } => println!("audit log intact: {entries} entries"),
        yijia_service::audit::Verification::Broken { seq, problem } => {
            bail!("the audit log is broken at entry {seq}: {problem}")
        }
    }
    let (n, differences) = svc.tallies_check().await.map_err(service_error)?;
    if let Some(first) = differences.first() {
        bail!("the tallies differ from a recount in {} figures, the first: {first}", differences.len());
    }
    println!("tallies exact: {n} figures");
    let (opened, failed) = svc.seals_open(&Caller::operator(), 1_000).await.map_err(service_error)?;
    if failed > 0 {
        bail!("{failed} sealed field(s) do not open with this master key");
    }
    println!("sealed fields open: {opened} checked");
    Ok(())
}

/// The folder, interval and count of scheduled backups, when set.
pub fn schedule(cfg: &Config) -> Result<Option<backup::Schedule>> {
    let Some(dir) = cfg.backup_dir.clone().filter(|d| !d.as_os_str().is_empty()) else { return Ok(None) };
    if !cfg.database_url().starts_with("sqlite:") {
        bail!("backup_dir: the server backs up SQLite; on PostgreSQL use pg_dump (docs/backup.md)");
    }
    let recipients = recipients(&[], cfg).context("backup_dir is set")?;
    if !(1..=24 * 7).contains(&cfg.backup_every_hours) {
        bail!("backup_every_hours: between 1 and 168");
    }
    if !(1..=1000).contains(&cfg.backup_keep) {
        bail!("backup_keep: between 1 and 1000");
    }
    Ok(Some(backup::Schedule {
        dir,
        recipients,
        every_ms: cfg.backup_every_hours * yijia_domain::time::HOUR_MS,
        keep: cfg.backup_keep,
    }))
}
