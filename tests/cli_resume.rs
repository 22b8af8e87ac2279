//! Resuming never loses or corrupts run data: a checkpoint is checked against the data files
//! and the run's configuration before anything is touched; a run killed before its first
//! checkpoint starts again; another thread count may continue a run; a full disk fails with a
//! message naming the file and leaves the last checkpoint resumable.

use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "support/cli.rs"]
mod cli;
use cli::{failed as error, scratch};

fn ok(out: &Output) -> String {
    cli::succeeded(out).1
}

/// The point-mass run of [`cli::POINT_MASS_RUN`] (evaluations at 0, 2048, 4096, 6144) into `dir`, with `extra` flags.
fn run(dir: &Path, extra: &[&str]) -> Output {
    cli::train_into(dir, &cli::POINT_MASS_RUN, extra)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files a run's results live in.
const DATA: [&str; 4] = [
    "episodes.csv",
    "evaluations.csv",
    "evaluations.jsonl",
    "checkpoint.json",
];

/// The same data files, and the same checkpoint apart from the configuration text it carries
/// (which records the thread count).
fn assert_same_results(a: &Path, b: &Path) {
    for file in &DATA[..3] {
        assert!(read(&a.join(file)) == read(&b.join(file)), "{file} differs");
    }
    let state = |dir: &Path| {
        let mut json: serde_json::Value = serde_json::from_str(&read(&dir.join(DATA[3]))).unwrap();
        json.as_object_mut().unwrap().remove("config");
        json
    };
    assert!(state(a) == state(b), "checkpoint.json differs");
}

/// A run on one thread stopped after its evaluations at steps 0 and 2048 (its checkpoint is
/// at step 4096).
fn stopped_run(name: &str) -> PathBuf {
    let dir = scratch(name);
    ok(&run(&dir, &["--stop-after", "4096", "--threads", "1"]));
    let rows = read(&dir.join("episodes.csv")).lines().count() - 1;
    assert!(rows > 0, "no episode ended before the stop");
    dir
}

/// Rewrites the checkpoint's JSON with `edit`.
fn edit_checkpoint(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("checkpoint.json");
    let mut json: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
}

/// Replaces the value of `key` (a number or a flat array) in the student state, a JSON text
/// inside the checkpoint (edited as text: its 128-bit RNG state does not survive a round trip
/// through `serde_json::Value`).
fn edit_student(dir: &Path, key: &str, value: &str) {
    edit_checkpoint(dir, |json| {
        let text = json["trainer"]["student"].as_str().unwrap();
        let start = text.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
        let end = start
            + if text[start..].starts_with('[') {
                text[start..].find(']').unwrap() + 1
            } else {
                text[start..].find([',', '}']).unwrap()
            };
        let edited = format!("{}{value}{}", &text[..start], &text[end..]);
        json["trainer"]["student"] = serde_json::Value::String(edited);
    });
}

fn snapshot(dir: &Path) -> Vec<String> {
    DATA.iter().map(|f| read(&dir.join(f))).collect()
}

#[test]
fn a_checkpoint_that_disagrees_with_the_files_is_refused_before_anything_changes() {
    let reference = scratch("reference");
    ok(&run(&reference, &[]));

    // episode_rows = 0 would have cut episodes.csv to its header.
    let dir = stopped_run("rows");
    edit_checkpoint(&dir, |json| json["episode_rows"] = 0.into());
    let before = snapshot(&dir);
    let message = error(&run(&dir, &["--resume"]));
    assert!(
        message.contains("does not match the run's files")
            && message.contains("episode rows but its env copies had finished"),
        "{message}"
    );
    assert_eq!(snapshot(&dir), before, "a refused resume changed the files");

    // Fewer evaluation rows than written: the kept rows would not end at the last evaluation.
    let dir = stopped_run("eval-rows");
    edit_checkpoint(&dir, |json| json["evaluation_rows"] = 1.into());
    let before = snapshot(&dir);
    let message = error(&run(&dir, &["--resume"]));
    assert!(
        message.contains("does not match the run's files"),
        "{message}"
    );
    assert_eq!(snapshot(&dir), before);

    // A student trained with other hyper-parameters than the run's.
    let dir = stopped_run("student-config");
    edit_student(&dir, "learning_rate", "0.5");
    let before = snapshot(&dir);
    let message = error(&run(&dir, &["--resume"]));
    assert!(
        message.contains("a student of another configuration")
            && message.contains("learning_rate = 0.5"),
        "{message}"
    );
    assert_eq!(snapshot(&dir), before);

    // Running returns of another number of env copies.
    let dir = stopped_run("env-returns");
    edit_student(&dir, "env_returns", "[0.0,0.0,0.0]");
    let message = error(&run(&dir, &["--resume"]));
    assert!(
        message.contains("running returns of 3 env copies but the run has 4"),
        "{message}"
    );

    // The untouched stopped run still resumes to the uninterrupted result.
    let dir = stopped_run("intact");
    ok(&run(&dir, &["--resume"]));
    assert_same_results(&dir, &reference);
}

#[test]
fn a_run_killed_before_its_first_checkpoint_starts_again_and_threads_may_change() {
    let reference = scratch("reference-2");
    ok(&run(&reference, &[]));

    // No checkpoint yet (killed during the first evaluation): both a plain start and --resume
    // start the run again over its files.
    for flag in [None, Some("--resume")] {
        let dir = stopped_run(&format!("no-checkpoint-{}", flag.is_some()));
        std::fs::remove_file(dir.join("checkpoint.json")).unwrap();
        let stderr = ok(&run(&dir, flag.as_slice()));
        assert!(
            stderr.contains("holds no checkpoint") && stderr.contains("from the beginning"),
            "{stderr}"
        );
        assert_same_results(&dir, &reference);
    }

    // Results do not depend on the thread count, so resuming with another is allowed.
    let dir = stopped_run("threads");
    ok(&run(&dir, &["--resume", "--threads", "2"]));
    assert_same_results(&dir, &reference);

    // A finished run is still protected from a second start.
    let message = error(&run(&reference, &[]));
    assert!(message.contains("already holds a run"), "{message}");
}

#[test]
fn a_full_disk_names_the_file_and_keeps_the_last_checkpoint_resumable() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipped: no /dev/full on this machine to stand in for a full disk");
        return;
    }
    let reference = scratch("reference-3");
    ok(&run(&reference, &[]));

    // The next checkpoint goes to a full disk: its temporary file cannot be written.
    let dir = stopped_run("full-checkpoint");
    let good = read(&dir.join("checkpoint.json"));
    let tmp = dir.join("checkpoint.json.tmp");
    std::os::unix::fs::symlink(full, &tmp).unwrap();
    let message = error(&run(&dir, &["--resume"]));
    assert!(
        message.contains(&format!("cannot write {}", tmp.display()))
            && message.contains("No space left on device"),
        "{message}"
    );
    assert_eq!(
        read(&dir.join("checkpoint.json")),
        good,
        "the last checkpoint was damaged"
    );
    // Space again: the run resumes from that checkpoint to the uninterrupted result.
    std::fs::remove_file(&tmp).unwrap();
    ok(&run(&dir, &["--resume"]));
    assert_same_results(&dir, &reference);

    // A data file on a full disk from the start.
    let dir = scratch("full-data");
    std::fs::create_dir_all(&dir).unwrap();
    let episodes = dir.join("episodes.csv");
    std::os::unix::fs::symlink(full, &episodes).unwrap();
    let message = error(&run(&dir, &[]));
    assert!(
        message.contains(&format!("cannot write {}", episodes.display())),
        "{message}"
    );
}
