//! Running the `teachgym` binary from the command-line tests: a scratch directory per test,
//! and the checks every test makes of a run that should succeed or fail (never a panic).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `teachgym ARGS` and waits for it.
pub fn teachgym(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(args)
        .output()
        .expect("the teachgym binary runs")
}

/// An empty path under Cargo's scratch directory for integration tests (`target/tmp`), unique
/// to this test binary and `name`: a rerun replaces it and `cargo clean` removes it, so runs
/// do not pile up in the system's temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("teachgym-{}-{name}", env!("CARGO_CRATE_NAME")));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// stdout and stderr of a run that must succeed without a panic.
pub fn succeeded(out: &Output) -> (String, String) {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// The error message (stderr) of a run that must fail without a panic.
pub fn failed(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "succeeded but should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    stderr
}

/// `teachgym train --quiet --out DIR` with the flags `run` (the test's run) and `extra`.
pub fn train_into(dir: &Path, run: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["train", "--quiet", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(run);
    args.extend_from_slice(extra);
    teachgym(&args)
}

/// A point-mass run with ALP-GMM of three PPO iterations (6144 steps on 4 env copies),
/// evaluated at steps 0, 2048, 4096 and 6144: seconds in a debug build.
pub const POINT_MASS_RUN: [&str; 10] = [
    "--env",
    "point_mass",
    "--teacher",
    "alp_gmm",
    "--steps",
    "6144",
    "--eval-every",
    "2048",
    "--num-envs",
    "4",
];
