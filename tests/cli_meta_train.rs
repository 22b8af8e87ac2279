//! `teachgym meta-train` (issue 20.4): INET then MetaQWeb on tiny budgets writes the run's
//! files; a bad `[meta]` value is an error naming the field; `teachgym train` refuses a `[meta]`
//! section; a corrupt `--inet` file is a clear error.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    // Cargo's scratch directory for integration tests: a rerun replaces the run.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("teachgym-meta-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn teachgym(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(args)
        .output()
        .unwrap()
}

const CONFIG: &str = r#"
env = "webform"
student = "dqn"
teacher = "random"

[trainer]
total_steps = 64
num_envs = 2
eval_every = 32

[webform]
max_fields = 2
max_pages = 1
max_distractors = 0
max_elements = 16
task_low  = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
task_high = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]

[meta]
inet_answers = 40
inet_eval_forms = 10
"#;

#[test]
fn meta_train_writes_its_run_and_refuses_bad_input() {
    let dir = scratch("run");
    let config = dir.join("meta.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let out = dir.join("run");
    let (config_arg, out_arg) = (config.to_str().unwrap(), out.to_str().unwrap());
    let run = teachgym(&["meta-train", "--config", config_arg, "--out", out_arg]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for file in [
        "config.toml",
        "test_set.csv",
        "inet.json",
        "inet_accuracy.csv",
        "episodes.csv",
        "evaluations.csv",
        "qweb.json",
        "summary.json",
    ] {
        assert!(out.join(file).exists(), "no {file}");
    }
    let evaluations = std::fs::read_to_string(out.join("evaluations.csv")).unwrap();
    assert_eq!(evaluations.lines().count(), 1 + 3, "{evaluations}"); // steps 0, 32, 64
    let accuracy = std::fs::read_to_string(out.join("inet_accuracy.csv")).unwrap();
    assert_eq!(accuracy.lines().count(), 1 + 4, "{accuracy}");

    // The frozen INET of that run instead of a new one.
    let again = dir.join("again");
    let inet = out.join("inet.json");
    let reuse = teachgym(&[
        "meta-train",
        "--config",
        config_arg,
        "--inet",
        inet.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(
        reuse.status.success(),
        "{}",
        String::from_utf8_lossy(&reuse.stderr)
    );
    assert!(!again.join("inet_accuracy.csv").exists());

    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, "{\"format_version\": 1}").unwrap();
    let bad = teachgym(&[
        "meta-train",
        "--config",
        config_arg,
        "--inet",
        corrupt.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("corrupt"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    let bad_config = dir.join("bad.toml");
    std::fs::write(
        &bad_config,
        CONFIG.replace("inet_answers = 40", "inet_answers = 0"),
    )
    .unwrap();
    let bad = teachgym(&[
        "meta-train",
        "--config",
        bad_config.to_str().unwrap(),
        "--out",
        out_arg,
    ]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("inet_answers"), "{stderr}");

    let train = teachgym(&["train", "--quiet", "--config", config_arg, "--out", out_arg]);
    assert!(!train.status.success());
    assert!(String::from_utf8_lossy(&train.stderr).contains("meta-train"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stopped_meta_train_run_resumes_to_the_uninterrupted_files() {
    let dir = scratch("resume");
    let config = dir.join("meta.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let config_arg = config.to_str().unwrap();
    let whole = dir.join("whole");
    let run = teachgym(&[
        "meta-train",
        "--config",
        config_arg,
        "--out",
        whole.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    // A finished run keeps no checkpoint (qweb.json holds its student).
    assert!(!whole.join("checkpoint.json").exists());

    let parts = dir.join("parts");
    let parts_arg = parts.to_str().unwrap();
    let stopped = teachgym(&[
        "meta-train",
        "--config",
        config_arg,
        "--out",
        parts_arg,
        "--stop-after",
        "40",
    ]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert!(String::from_utf8_lossy(&stopped.stdout).contains("--resume"));
    assert!(parts.join("checkpoint.json").exists());
    assert!(!parts.join("qweb.json").exists() && !parts.join("summary.json").exists());

    // A new run into the stopped run's directory is refused, and so is a resume with another
    // budget; neither touches the directory.
    let again = teachgym(&["meta-train", "--config", config_arg, "--out", parts_arg]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));
    let other = teachgym(&[
        "meta-train",
        "--resume",
        "--out",
        parts_arg,
        "--steps",
        "128",
    ]);
    assert!(!other.status.success());
    assert!(stderr(&other).contains("trainer"), "{}", stderr(&other));

    // Rows written after the checkpoint (a torn evaluation, a torn episode) are dropped on
    // resume.
    for (file, row) in [
        ("evaluations.csv", "64,12.5"),
        ("episodes.csv", "44,0,9,0.5"),
    ] {
        let path = parts.join(file);
        let mut torn = std::fs::read_to_string(&path).unwrap();
        torn.push_str(row);
        std::fs::write(&path, torn).unwrap();
    }
    // Resuming with the run's own config.toml (no --config) and another thread count.
    let resumed = teachgym(&[
        "meta-train",
        "--resume",
        "--threads",
        "2",
        "--out",
        parts_arg,
    ]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    for file in [
        "evaluations.csv",
        "episodes.csv",
        "qweb.json",
        "inet.json",
        "inet_accuracy.csv",
        "test_set.csv",
    ] {
        assert!(
            std::fs::read(whole.join(file)).unwrap() == std::fs::read(parts.join(file)).unwrap(),
            "{file} differs from the uninterrupted run's"
        );
    }
    assert!(!parts.join("checkpoint.json").exists());
    // Resuming a finished run trains nothing and reports its summary.
    let finished = teachgym(&["meta-train", "--resume", "--out", parts_arg]);
    assert!(finished.status.success(), "{}", stderr(&finished));
    assert!(String::from_utf8_lossy(&finished.stdout).contains("after 64 env steps"));

    // A corrupt checkpoint is a clear error.
    let corrupt = dir.join("corrupt");
    let corrupt_arg = corrupt.to_str().unwrap();
    let stopped = teachgym(&[
        "meta-train",
        "--config",
        config_arg,
        "--out",
        corrupt_arg,
        "--stop-after",
        "40",
    ]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let checkpoint = corrupt.join("checkpoint.json");
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    std::fs::write(&checkpoint, &text[..text.len() / 2]).unwrap();
    let bad = teachgym(&["meta-train", "--resume", "--out", corrupt_arg]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("corrupt"), "{}", stderr(&bad));
    std::fs::write(&checkpoint, "{\"format_version\": 99}").unwrap();
    let bad = teachgym(&["meta-train", "--resume", "--out", corrupt_arg]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("format 99"), "{}", stderr(&bad));

    let no_config = teachgym(&["meta-train", "--out", corrupt_arg]);
    assert!(!no_config.status.success());
    assert!(
        stderr(&no_config).contains("--config"),
        "{}",
        stderr(&no_config)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
