//! `yijia`: one binary for the server and the operator's commands.

mod backup;
mod config;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use yijia_service::keys::Keyring;
use yijia_service::users::{NewGrant, NewUser};
use yijia_service::{Caller, PageReq, Services, SystemClock};
use yijia_store::{Db, DbOptions};

use crate::config::{Config, Overrides, redact};

// glibc keeps the 19 MiB that each Argon2 hash works in for the life of the
// process (its mmap threshold grows after the first free); mimalloc gives
// it back, which keeps an idle server small.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// yijia (驿家): community grid governance and resident services.
///
/// Runs on SQLite in the data directory by default, or on PostgreSQL when
/// given a postgres:// URL. Settings come from flags, then YIJIA_*
/// environment variables, then yijia.toml.
#[derive(Parser)]
#[command(name = "yijia", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Data directory (SQLite database, keys); created on first start.
    #[arg(long, global = true, env = "YIJIA_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "YIJIA_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Configuration file.
    #[arg(long, global = true, env = "YIJIA_CONFIG", value_name = "FILE", default_value = "yijia.toml")]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (API, pages, background jobs).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "YIJIA_ADDR", value_name = "HOST:PORT")]
        addr: Option<String>,
        /// Seed the demo community 城南社区 (once) and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations embedded in this binary.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Manage the keys that seal personal data.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Import data from the files people keep today.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Export rosters in the layout people keep (personal data masked).
    #[command(subcommand)]
    Export(ExportCmd),
    /// Data for benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Keys for Open311 clients that file requests.
    #[command(subcommand)]
    Apikey(ApikeyCmd),
    /// The dashboard's monthly tallies: check them against a recount, or rebuild them.
    #[command(subcommand)]
    Tallies(TalliesCmd),
    /// Take a backup while the server runs (SQLite): the database and the
    /// files, encrypted to an age public key, never with the master key.
    Backup {
        /// The file to write (it must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// An age public key (age1…) to encrypt to, repeatable [default: backup_recipients].
        #[arg(long = "recipient", value_name = "AGE1…")]
        recipients: Vec<String>,
    },
    /// Restore a backup into a new data directory (--data-dir), and check
    /// the audit chain, the tallies and the seals before saying done.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The age identity file that opens it.
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        /// A copy of the master.key that sealed it [or YIJIA_MASTER_KEY].
        #[arg(long, value_name = "FILE")]
        master_key: Option<PathBuf>,
        /// The newest data-keys.age (the residents' own keys, written
        /// beside every backup and after every erasure).
        #[arg(long, value_name = "FILE")]
        data_keys: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TalliesCmd {
    /// Recount every tally from the rows and report differences (exit code 1).
    Check,
    /// Throw the tallies away and count them afresh (after restoring a backup made by hand, say).
    Rebuild,
}

#[derive(Subcommand)]
enum ApikeyCmd {
    /// Issue a key for a community or subdistrict; it is printed once.
    Add {
        /// Who it is for (the app or partner).
        #[arg(long)]
        name: String,
        /// The community or subdistrict code it may file into.
        #[arg(long)]
        scope: String,
    },
    /// List the keys (never the keys themselves).
    List,
    /// Stop a key from working.
    Revoke { id: i64 },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Generate a city into an empty database: by default Yushu's 1.2
    /// million residents in about 480,000 households and 3,000 grids, the
    /// same for the same seed (never real people). Users bench-officer,
    /// bench-secretary and bench-worker get the password yushu-bench-2024.
    Gen {
        #[arg(long, default_value_t = 1_200_000)]
        residents: usize,
        #[arg(long, default_value_t = 3_000)]
        grids: usize,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// A community's residents, one sheet per grid.
    Residents {
        #[arg(long)]
        community: String,
        /// Only this category (elderly_alone, 孤寡老人, or one the community made).
        #[arg(long)]
        category: Option<String>,
        /// Where to write the workbook.
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Import a resident roster (.xlsx). Every good row goes in; every bad
    /// row is listed with its sheet, row and reason; importing the same file
    /// twice changes nothing the second time.
    Residents {
        /// The workbook (.xlsx).
        file: PathBuf,
        /// The community to import into (chengnan).
        #[arg(long)]
        community: String,
        /// Which grid a sheet goes to, for sheets not named 第N网格: SHEET=CODE (repeatable).
        #[arg(long = "grid", value_name = "SHEET=CODE")]
        grids: Vec<String>,
        /// Check everything, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the report as a workbook too.
        #[arg(long, value_name = "OUT.xlsx")]
        report: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Make a new key, re-seal every protected value with it, then drop the
    /// old one. Safe to run again after an interruption: it resumes.
    Rotate,
    /// Make an age key pair for backups: the identity goes into FILE (keep
    /// it off the server), the public key is printed (give it to `yijia
    /// backup --recipient` or backup_recipients).
    BackupKeygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write the residents' own keys to FILE (age-encrypted to the
    /// recipients), replacing it: beside a PostgreSQL dump, or after an
    /// erasure.
    ExportData {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// age1… (repeat for several) [default: backup_recipients]
        #[arg(long = "recipient", value_name = "AGE1…")]
        recipients: Vec<String>,
    },
    /// Read the residents' own keys back from the newest keys file (after
    /// restoring a database, on PostgreSQL by pg_restore); whoever has no
    /// key in it is erased.
    LoadData {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user with one role on one org node.
    Add {
        #[arg(long)]
        username: String,
        /// resident, grid_worker, station_clerk, community_staff, secretary, street_officer or admin.
        #[arg(long)]
        role: String,
        /// Org code the role applies to (root, zhengyang, chengnan, chengnan-g01, …).
        #[arg(long)]
        scope: String,
        /// Name shown on pages [default: the username].
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user; their sessions end at once.
    Disable { username: String },
    /// Enable a disabled user again.
    Enable { username: String },
    /// Set a user's password; their sessions end.
    Passwd {
        username: String,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the hash chain; report the first broken link (exit code 1).
    Verify,
}

fn read_password() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
    let line = s.lines().next().unwrap_or("").to_owned();
    if line.is_empty() {
        bail!("no password on standard input");
    }
    Ok(line)
}

async fn open(cfg: &Config) -> Result<Db> {
    let url = cfg.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("creating the data directory {}", cfg.data_dir.display()))?;
    }
    let opts = DbOptions { max_connections: cfg.max_connections, pg_schema: None };
    let db = Db::connect(&url, &opts).await.with_context(|| format!("opening the database {}", redact(&url)))?;
    db.migrate().await.context("applying migrations")?;
    if db.backend() == yijia_store::Backend::Sqlite {
        db.optimize().await.context("refreshing the query planner's statistics")?;
    }
    Ok(db)
}

fn services(cfg: &Config, db: Db) -> Result<Services> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating the data directory {}", cfg.data_dir.display()))?;
    let env_key = std::env::var(yijia_service::keys::ENV_KEY).ok();
    let keys = Keyring::load_or_create(&cfg.data_dir, env_key.as_deref()).map_err(service_error)?;
    let files = Arc::new(yijia_service::files::LocalFolder::new(cfg.data_dir.join("files")));
    Ok(Services::new(db, Arc::new(SystemClock), cfg.settings().map_err(anyhow::Error::msg)?, Arc::new(keys))
        .with_files(files))
}

/// A progress bar on standard error, hidden when it is not a terminal.
fn progress_bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn service_error(e: yijia_service::ServiceError) -> anyhow::Error {
    match e {
        yijia_service::ServiceError::Invalid(i) => anyhow::anyhow!("{}: {}", i.field, i.msg),
        yijia_service::ServiceError::NotFound | yijia_service::ServiceError::Denied { .. } => {
            anyhow::anyhow!("not found (找不到)")
        }
        e => anyhow::Error::new(e),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("YIJIA_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("yijia: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let addr = match &cli.command {
        Command::Serve { addr, .. } => addr.clone(),
        _ => None,
    };
    let flags =
        Overrides { addr, data_dir: cli.global.data_dir.clone(), database_url: cli.global.database_url.clone() };
    let cfg = Config::load(Some(&cli.global.config), flags).context("reading the configuration")?;
    tracing::debug!(config = ?cfg, "configuration");
    let ok = std::process::ExitCode::SUCCESS;
    match cli.command {
        Command::Serve { demo, .. } => serve(cfg, demo).await.map(|_| ok),
        Command::Migrate => {
            let url = cfg.database_url();
            if url.starts_with("sqlite:") {
                std::fs::create_dir_all(&cfg.data_dir)?;
            }
            let db =
                Db::connect(&url, &DbOptions::default()).await.with_context(|| format!("opening {}", redact(&url)))?;
            let n = db.migrate().await?;
            println!("{n} migration(s) applied to {}", redact(&url));
            Ok(ok)
        }
        Command::User(cmd) => {
            let svc = services(&cfg, open(&cfg).await?)?;
            user(&svc, cmd).await.map(|_| ok)
        }
        Command::Keys(KeysCmd::Rotate) => rotate_keys(&cfg).await.map(|_| ok),
        Command::Keys(KeysCmd::BackupKeygen { out }) => backup::keygen(&out).map(|_| ok),
        Command::Keys(KeysCmd::ExportData { out, recipients }) => {
            backup::export_data_keys(&cfg, &out, &recipients).await.map(|_| ok)
        }
        Command::Keys(KeysCmd::LoadData { file, identity }) => {
            backup::load_data_keys(&cfg, &file, &identity).await.map(|_| ok)
        }
        Command::Backup { out, recipients } => backup::take(&cfg, &out, &recipients).await.map(|_| ok),
        Command::Restore { file, identity, master_key, data_keys } => {
            let keys = backup::RestoreKeys {
                identity: &identity,
                master_key: master_key.as_deref(),
                data_keys: data_keys.as_deref(),
            };
            backup::restore(&cfg, &file, &keys).await.map(|_| ok)
        }
        Command::Apikey(cmd) => {
            let svc = services(&cfg, open(&cfg).await?)?;
            let op = yijia_service::Caller::operator();
            match cmd {
                ApikeyCmd::Add { name, scope } => {
                    let k = svc.issue_api_key(&op, &name, &scope).await.map_err(service_error)?;
                    println!("{}", k.key.unwrap_or_default());
                    eprintln!("api key {} for {} ({}): shown once, keep it safe", k.id, k.name, k.scope);
                }
                ApikeyCmd::List => {
                    for k in svc.api_keys(&op).await.map_err(service_error)? {
                        let state = k.revoked_at.map_or("active".to_owned(), |t| format!("revoked {t}"));
                        println!("{}\t{}\t{}\t{}\t{}", k.id, k.name, k.scope, k.created_at, state);
                    }
                }
                ApikeyCmd::Revoke { id } => svc.revoke_api_key(&op, id).await.map_err(service_error)?,
            }
            Ok(ok)
        }
        Command::Export(ExportCmd::Residents { community, category, out }) => {
            let svc = services(&cfg, open(&cfg).await?)?;
            let book = svc
                .export_residents(&Caller::operator(), &community, category.as_deref())
                .await
                .map_err(service_error)?;
            std::fs::write(&out, book).with_context(|| format!("writing {}", out.display()))?;
            println!("roster written to {} (personal data masked)", out.display());
            Ok(ok)
        }
        Command::Bench(BenchCmd::Gen { residents, grids, seed }) => {
            let svc = services(&cfg, open(&cfg).await?)?;
            let spec = yijia_service::fixtures::city::CitySpec { residents, grids, seed };
            let bar = progress_bar(residents as u64, "residents");
            let t = std::time::Instant::now();
            let made =
                svc.fixtures().generate_city(&spec, &|n| bar.set_position(n as u64)).await.map_err(service_error)?;
            bar.finish_and_clear();
            match made {
                yijia_service::fixtures::city::Generated::Present => {
                    println!("the city is there already ({residents} residents)")
                }
                yijia_service::fixtures::city::Generated::Made { residents, households } => println!(
                    "{residents} residents in {households} households and {grids} grids, in {:.1} s",
                    t.elapsed().as_secs_f64()
                ),
            }
            Ok(ok)
        }
        Command::Import(ImportCmd::Residents { file, community, grids, dry_run, report }) => {
            let mut map = std::collections::HashMap::new();
            for g in &grids {
                let Some((sheet, code)) = g.split_once('=') else {
                    bail!("--grid takes SHEET=CODE, not '{g}'");
                };
                map.insert(sheet.trim().to_owned(), code.trim().to_owned());
            }
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let svc = services(&cfg, open(&cfg).await?)?;
            let bar = progress_bar(0, "rows");
            let r = svc
                .import_residents(&Caller::operator(), &bytes, &community, &map, dry_run, &|n, total| {
                    bar.set_length(total as u64);
                    bar.set_position(n as u64);
                })
                .await
                .map_err(service_error)?;
            bar.finish_and_clear();
            println!(
                "{}{} sheet(s), {} data row(s): {} imported, {} already registered, {} with problems",
                if dry_run { "dry run (nothing changed): " } else { "" },
                r.sheets,
                r.rows,
                r.imported,
                r.unchanged,
                r.bad.len()
            );
            if !r.new_estates.is_empty() {
                println!("new estates: {}", r.new_estates.join(", "));
            }
            for b in &r.bad {
                println!("  {} row {}: {} ({})", b.sheet, b.row, b.reason_zh, b.field);
            }
            if let Some(out) = report {
                let bytes = yijia_service::import::report_workbook(&r, false).map_err(service_error)?;
                std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
                println!("report written to {}", out.display());
            }
            Ok(ok)
        }
        Command::Tallies(cmd) => {
            let svc = services(&cfg, open(&cfg).await?)?;
            match cmd {
                TalliesCmd::Check => {
                    let (n, differences) = svc.tallies_check().await.map_err(service_error)?;
                    if differences.is_empty() {
                        println!("tallies exact: {n} figures");
                        return Ok(ok);
                    }
                    for d in &differences {
                        println!("{d}");
                    }
                    println!("tallies DIFFER in {} figures: run `yijia tallies rebuild`", differences.len());
                    Ok(std::process::ExitCode::from(1))
                }
                TalliesCmd::Rebuild => {
                    let n = svc.tallies_rebuild().await.map_err(service_error)?;
                    println!("tallies rebuilt: {n} figures");
                    Ok(ok)
                }
            }
        }
        Command::Audit(AuditCmd::Verify) => {
            let svc = services(&cfg, open(&cfg).await?)?;
            match svc.audit_verify().await.map_err(service_error)? {
                yijia_service::audit::Verification::Intact { entries } => {
                    println!("audit log intact: {entries} entries");
                    Ok(ok)
                }
                yijia_service::audit::Verification::Broken { seq, problem } => {
                    println!("audit log BROKEN at entry {seq}: {problem}");
                    Ok(std::process::ExitCode::from(1))
                }
            }
        }
    }
}

async fn user(svc: &Services, cmd: UserCmd) -> Result<()> {
    let op = Caller::operator();
    match cmd {
        UserCmd::Add { username, role, scope, display_name, password_stdin: _ } => {
            let password = read_password()?;
            let role = role.parse().map_err(|e: yijia_domain::Invalid| anyhow::anyhow!("{}", e.msg))?;
            let new = NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password,
                grants: vec![NewGrant { role, scope }],
            };
            let u = svc.add_user(&op, new).await.map_err(service_error)?;
            println!("created user {} (id {})", u.username, u.id);
        }
        UserCmd::List { json } => {
            let mut page = 1;
            let mut all = Vec::new();
            loop {
                let p = svc
                    .list_users(&op, PageReq::new(Some(page), Some(500)).map_err(service_error)?)
                    .await
                    .map_err(service_error)?;
                let done = p.items.len() < 500;
                all.extend(p.items);
                if done {
                    break;
                }
                page += 1;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                println!("{:<20} {:<12} {:<9} grants", "username", "name", "status");
                for u in all {
                    let grants: Vec<String> = u.grants.iter().map(|g| format!("{}@{}", g.role, g.org_code)).collect();
                    let status = if u.disabled { "disabled" } else { "active" };
                    println!("{:<20} {:<12} {:<9} {}", u.username, u.display_name, status, grants.join(", "));
                }
            }
        }
        UserCmd::Disable { username } => {
            svc.set_user_disabled(&op, &username, true).await.map_err(service_error)?;
            println!("disabled {username}; their sessions have ended");
        }
        UserCmd::Enable { username } => {
            svc.set_user_disabled(&op, &username, false).await.map_err(service_error)?;
            println!("enabled {username}");
        }
        UserCmd::Passwd { username, password_stdin: _ } => {
            let password = read_password()?;
            svc.reset_password(&op, &username, &password).await.map_err(service_error)?;
            println!("password of {username} changed; their sessions have ended");
        }
    }
    Ok(())
}

/// Generated residents of the demo community (never real people).
const DEMO_RESIDENTS: usize = 2400;
/// Demo cases over the last 90 days.
const DEMO_CASES: usize = 300;

async fn serve(cfg: Config, demo: bool) -> Result<()> {
    let started = std::time::Instant::now();
    // the demo's printed logins work without a phone, unless told otherwise
    let cfg = match (&cfg.require_totp, demo) {
        (None, true) => Config { require_totp: Some("none".into()), ..cfg },
        _ => cfg,
    };
    // a schedule half set up stops the start, not the first backup a day later
    let schedule = backup::schedule(&cfg)?;
    let db = open(&cfg).await?;
    let svc = services(&cfg, db)?;
    svc.ensure_case_catalogues().await.map_err(service_error)?;
    if demo {
        let seeded = svc.fixtures().seed_demo().await.map_err(service_error)?;
        if seeded {
            tracing::info!("demo community seeded");
        }
        let people = svc.fixtures().seed_demo_residents(DEMO_RESIDENTS).await.map_err(service_error)?;
        if people > 0 {
            tracing::info!(people, "demo residents generated");
        }
        let cases = svc.fixtures().seed_demo_cases(DEMO_CASES).await.map_err(service_error)?;
        if cases > 0 {
            tracing::info!(cases, "demo cases filed");
        }
        let visits = svc.fixtures().seed_demo_visits().await.map_err(service_error)?;
        if visits > 0 {
            tracing::info!(visits, "a year of demo visits logged");
        }
        let activities = svc.fixtures().seed_demo_points().await.map_err(service_error)?;
        if activities > 0 {
            tracing::info!(activities, "a year of demo volunteering and the shop seeded");
        }
        let notices = svc.fixtures().seed_demo_notices().await.map_err(service_error)?;
        if notices > 0 {
            tracing::info!(notices, "demo notices posted");
        }
        let projects = svc.fixtures().seed_demo_projects().await.map_err(service_error)?;
        if projects > 0 {
            tracing::info!(projects, "demo repair projects seeded");
        }
        let pledges = svc.fixtures().seed_demo_pledges().await.map_err(service_error)?;
        if pledges > 0 {
            tracing::info!(pledges, "demo pledges seeded");
        }
        let services = svc.fixtures().seed_demo_stations().await.map_err(service_error)?;
        if services > 0 {
            tracing::info!(services, "a month of the demo service station seeded");
        }
        let neighbours = svc.fixtures().seed_demo_street().await.map_err(service_error)?;
        if neighbours > 0 {
            tracing::info!(neighbours, "the demo subdistrict's other communities seeded");
        }
        if seeded {
            svc.fixtures().past_is_not_news().await.map_err(service_error)?;
        }
    }
    let listener =
        tokio::net::TcpListener::bind(&cfg.addr).await.with_context(|| format!("listening on {}", cfg.addr))?;
    let local = listener.local_addr()?;
    println!("yijia listening on http://{local}/  (database: {})", redact(&cfg.database_url()));
    if demo {
        println!("demo logins (password for all: {}):", yijia_service::fixtures::demo::PASSWORD);
        for (username, name, role, scope) in yijia_service::fixtures::demo::USERS {
            println!("  {username:<10} {name} · {} @ {scope}", role.name_zh());
        }
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, "ready");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let runner = format!("{}-{}", std::process::id(), local.port());
    let jobs = {
        let svc = svc.clone();
        let stop_rx = stop_rx.clone();
        tokio::spawn(async move { svc.run_jobs(runner, stop_rx).await })
    };
    let backups = schedule.map(|s| {
        let svc = svc.clone();
        tokio::spawn(async move { svc.run_backups(s, stop_rx).await })
    });
    let trusted_proxies = cfg.trusted_proxies().map_err(anyhow::Error::msg)?;
    let state = yijia_web::AppState { svc: svc.clone(), cfg: yijia_web::WebConfig { tls: cfg.tls, trusted_proxies } };
    yijia_web::serve(listener, state, shutdown_signal()).await?;
    let _ = stop_tx.send(true);
    let _ = jobs.await;
    if let Some(b) = backups {
        let _ = b.await;
    }
    // the last requests' queued writes are committed before the process ends
    svc.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn rotate_keys(cfg: &Config) -> Result<()> {
    use yijia_service::keys::{ENV_KEY, KEY_FILE};
    if std::env::var(ENV_KEY).is_ok_and(|k| !k.trim().is_empty()) {
        bail!(
            "the key comes from {ENV_KEY}; rotation works on the key file: unset {ENV_KEY} and put the key into \
             {} first (see docs/security.md)",
            cfg.data_dir.join(KEY_FILE).display()
        );
    }
    let db = open(cfg).await?;
    std::fs::create_dir_all(&cfg.data_dir)?;
    let path = cfg.data_dir.join(KEY_FILE);
    let mut ring = Keyring::load_or_create(&cfg.data_dir, None).map_err(service_error)?;
    if ring.key_ids().len() == 1 {
        let old = ring.active_id().to_owned();
        let new = ring.rotate().to_owned();
        // both keys on disk before anything is re-sealed, so that an
        // interruption loses nothing
        ring.save(&path).map_err(service_error)?;
        println!("new key {new} (was {old})");
    } else {
        println!("resuming: re-sealing with key {}", ring.active_id());
    }
    let svc = Services::new(db, Arc::new(SystemClock), cfg.settings().map_err(anyhow::Error::msg)?, Arc::new(ring));
    let n = svc.reseal_all(&Caller::operator()).await.map_err(service_error)?;
    let mut ring = Keyring::load_or_create(&cfg.data_dir, None).map_err(service_error)?;
    ring.retire_old();
    ring.save(&path).map_err(service_error)?;
    println!("re-sealed the personal data of {n} resident(s) with key {}; old keys removed", ring.active_id());
    Ok(())
}
