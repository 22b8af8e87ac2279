//! What a newcomer reads: the notes a run prints about its configuration (a rounded budget,
//! bounds beyond the env's, more threads than cores), expert knowledge that works by default,
//! truthful evaluation labels, one-line errors that name the file, row and fix, and help that
//! shows the defaults and lists only what a command accepts.

use std::path::Path;
use std::process::Output;

#[path = "support/cli.rs"]
mod cli;
use cli::{failed as error, scratch, succeeded as ok, teachgym};

/// A tiny point-mass run into `dir` with `extra` flags.
fn point_mass(dir: &Path, extra: &[&str]) -> Output {
    cli::train_into(dir, &["--env", "point_mass", "--num-envs", "4"], extra)
}

#[test]
fn adr_starts_with_the_envs_expert_knowledge() {
    let dir = scratch("adr");
    ok(&point_mass(&dir, &["--teacher", "adr", "--steps", "2048"]));
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("expert_knowledge = \"high\""), "{config}");
    // The point mass' success bonus is its mastery threshold; the initial distribution sits
    // on the nearest target.
    assert!(config.contains("success_threshold = 10.0"), "{config}");
    assert!(config.contains("[teacher_config.expert_knowledge.initial_distribution]"));

    let dir = scratch("adr-none");
    let message = error(&point_mass(
        &dir,
        &[
            "--teacher",
            "adr",
            "--expert-knowledge",
            "none",
            "--steps",
            "2048",
        ],
    ));
    assert!(
        message.contains("needs expert knowledge") && message.contains("--expert-knowledge low"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");

    let dir = scratch("alp-low");
    ok(&point_mass(
        &dir,
        &[
            "--teacher",
            "alp_gmm",
            "--expert-knowledge",
            "low",
            "--steps",
            "2048",
        ],
    ));
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("expert_knowledge = \"low\""), "{config}");
    assert!(!config.contains("initial_distribution"), "{config}");

    // Two different levels for one run are refused rather than one silently winning.
    let file = scratch("two-levels").with_extension("toml");
    std::fs::write(
        &file,
        "expert_knowledge = \"low\"\n[teacher_config.expert_knowledge]\nlevel = \"high\"\n",
    )
    .unwrap();
    let message = error(&point_mass(
        &scratch("two-levels-run"),
        &["--config", file.to_str().unwrap(), "--steps", "2048"],
    ));
    assert!(message.contains("two expert-knowledge levels"), "{message}");

    let message = error(&teachgym(&["train", "--expert-knowledge", "medium"]));
    assert!(
        message.contains("expected one of none, low, high, got `medium`"),
        "{message}"
    );
}

#[test]
fn a_rounded_budget_is_announced_and_labels_are_truthful() {
    let dir = scratch("rounded");
    let (stdout, stderr) = ok(&point_mass(&dir, &["--steps", "1000"]));
    assert!(
        stderr.contains(
            "note: the budget of 1,000 env steps is rounded up to 2,048: ppo learns in whole \
             iterations of 2,048 steps (4 envs × 512 steps)"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("trained 2,048 env steps"), "{stdout}");
    assert!(stdout.contains("final evaluation:"), "{stdout}");

    // Stopped early: the evaluation shown is the step-0 one, and says so.
    let dir = scratch("stopped");
    let (stdout, _) = ok(&point_mass(
        &dir,
        &[
            "--steps",
            "8192",
            "--eval-every",
            "100000",
            "--stop-after",
            "1",
        ],
    ));
    assert!(!stdout.contains("final evaluation"), "{stdout}");
    assert!(stdout.contains("last evaluation (at step 0):"), "{stdout}");
    assert!(stdout.contains("continue it with --resume"), "{stdout}");

    // A budget that divides evenly gets no note.
    let dir = scratch("even");
    let (_, stderr) = ok(&point_mass(&dir, &["--steps", "2048"]));
    assert!(!stderr.contains("rounded"), "{stderr}");
}

#[test]
fn unusual_but_allowed_settings_are_noted() {
    let dir = scratch("notes");
    let (_, stderr) = ok(&point_mass(
        &dir,
        &[
            "--steps",
            "2048",
            "--bound",
            "target_distance=0.2,1.5",
            "--threads",
            "1000",
            "--teacher",
            "random",
            "--expert-knowledge",
            "high",
        ],
    ));
    for needle in [
        "note: target_distance spans [0.2, 1.5], beyond the env's default [0.2, 1]",
        "note: 1000 worker threads on",
        "note: teacher `random` reads no expert knowledge: level `high` changes nothing",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
}

#[test]
fn errors_name_the_value_the_file_and_the_row() {
    for (flag, value, needle) in [
        ("--steps", "-5", "expected a whole number ≥ 1, got `-5`"),
        ("--steps", "0", "expected a whole number ≥ 1, got `0`"),
        ("--seed", "-1", "expected a whole number ≥ 0, got `-1`"),
        ("--num-envs", "x", "expected a whole number ≥ 1, got `x`"),
        ("--threads", "-2", "expected a whole number ≥ 0, got `-2`"),
    ] {
        let message = error(&teachgym(&["train", flag, value]));
        assert!(message.contains(needle), "{flag} {value}: {message}");
        assert!(!message.contains("unexpected argument"), "{message}");
    }

    let file = scratch("test-set").with_extension("csv");
    std::fs::write(&file, "target_distance,mass\n0.5,1.0\n9,1.0\n").unwrap();
    let message = error(&point_mass(
        &scratch("test-set-run"),
        &["--test-set", file.to_str().unwrap(), "--steps", "2048"],
    ));
    let path = file.display().to_string();
    assert!(
        message.contains(&format!("line 3 (data row 2) of {path}"))
            && message.contains("`target_distance` = 9 is outside its bounds [0.2, 1]"),
        "{message}"
    );
    assert_eq!(
        message.matches("outside its bounds").count(),
        1,
        "{message}"
    );

    // An env error reaches the reader once, not as `X: X`.
    let message = error(&point_mass(
        &scratch("bad-bound"),
        &["--bound", "target_distance=0.2,3", "--steps", "2048"],
    ));
    assert_eq!(message.matches("must lie in").count(), 1, "{message}");

    // --gif-task is checked before the evaluation runs.
    let run = scratch("gif-task");
    ok(&point_mass(&run, &["--steps", "2048"]));
    let gif = run.join("x.gif");
    let message = error(&teachgym(&[
        "eval",
        "--checkpoint",
        run.join("checkpoint.json").to_str().unwrap(),
        "--gif",
        gif.to_str().unwrap(),
        "--gif-task",
        "100",
    ]));
    assert!(
        message.contains("--gif-task 100 is out of range: the test set has 100 tasks (0 to 99)"),
        "{message}"
    );

    let not_a_checkpoint = scratch("not-a-checkpoint").with_extension("json");
    std::fs::write(&not_a_checkpoint, "{\"a\": 1}").unwrap();
    let message = error(&teachgym(&[
        "eval",
        "--checkpoint",
        not_a_checkpoint.to_str().unwrap(),
    ]));
    assert!(
        message.contains("is not a teachgym run checkpoint (no `format_version` field)"),
        "{message}"
    );
    assert!(!message.contains("None"), "{message}");
}

#[test]
fn help_shows_defaults_and_only_what_a_command_accepts() {
    let (help, _) = ok(&teachgym(&["train", "--help"]));
    for needle in [
        "[default: 20000000]",
        "[default: alp_gmm]",
        "[default: stump_tracks]",
        "[default: 8]",
        "[default: 500000]",
        "old_classic_bipedal",
        "profile_chimpanzee",
        "random, alp_gmm, covar_gmm, riac, adr",
        "--expert-knowledge <LEVEL>",
    ] {
        assert!(
            help.contains(needle),
            "{needle:?} not in train --help:\n{help}"
        );
    }
    for command in ["bench", "stats"] {
        let (help, _) = ok(&teachgym(&[command, "--help"]));
        assert!(!help.contains("webform"), "{command} --help: {help}");
        for body in ["old_classic_bipedal", "big_quadru", "profile_chimpanzee"] {
            assert!(help.contains(body), "{command} --help: {help}");
        }
    }
    let (help, _) = ok(&teachgym(&["render", "--help"]));
    assert!(help.contains("webform"), "{help}");
}

#[test]
fn every_body_runs_from_the_command_line_and_the_gait_drives_only_the_bipedals() {
    for body in [
        "big_quadru",
        "spider",
        "millipede",
        "wheel",
        "profile_chimpanzee",
    ] {
        let (stats, _) = ok(&teachgym(&["stats", "--body", body, "--steps", "200"]));
        assert!(stats.contains("\"steps\": 200"), "{body}: {stats}");
    }
    // The scripted gait reads a bipedal's observation: a clear refusal, not a panic.
    let message = error(&teachgym(&[
        "stats", "--body", "spider", "--policy", "scripted", "--steps", "10",
    ]));
    assert!(
        message.contains("bipedals only") && message.contains("--policy random"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}
