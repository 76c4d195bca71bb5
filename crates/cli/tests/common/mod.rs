//! What the backup and erasure tests share: the `yijia` command without the
//! caller's environment, its output, and a backup key pair.

#![allow(dead_code, clippy::unwrap_used)] // each test uses its part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const PASSWORD: &str = "chengnan-demo-2024";

/// `yijia ARGS`, with no master key, database or backup folder from the environment.
pub fn yijia(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yijia"));
    cmd.args(args).env_remove("YIJIA_MASTER_KEY").env_remove("YIJIA_DATABASE_URL").env_remove("YIJIA_BACKUP_DIR");
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

/// What it printed, both streams.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A key pair made by `yijia keys backup-keygen`: (identity file, public key).
pub fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let id = dir.join(name);
    let o = run(yijia(&["keys", "backup-keygen", "--out"]).arg(&id));
    assert!(o.status.success(), "{}", text(&o));
    let public = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(public.starts_with("age1"), "{public}");
    (id, public)
}
