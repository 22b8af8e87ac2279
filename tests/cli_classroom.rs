//! Meta-ACL from the command line: ALP-GMM runs write `classroom_entry.json`, `teachgym
//! classroom build` assembles them, and `teachgym train --teacher again --classroom FILE`
//! trains a new student with it (and resumes exactly); bad input is a clear error.

use std::path::Path;

#[path = "support/cli.rs"]
mod cli;
use cli::{scratch, teachgym, POINT_MASS_RUN};

/// Small ALP-GMM refits so that three PPO iterations on the point mass give a history.
const ALP_GMM_TOML: &str = "[teacher_config]\nfit_rate = 10\nmax_k = 3\n";
/// AGAIN with the same internal ALP-GMM; the pre-test ends at the first evaluation after
/// training began (step 2048).
const AGAIN_TOML: &str =
    "[teacher_config]\npretrain_epochs = 1\n\n[teacher_config.alp_gmm]\nfit_rate = 10\nmax_k = 3\n";

fn write_config(dir: &Path, text: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("run.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn run_args(teacher: &str) -> Vec<&str> {
    let mut args = POINT_MASS_RUN.to_vec();
    // POINT_MASS_RUN's teacher flag is at index 3.
    args[3] = teacher;
    args
}

#[test]
fn classroom_build_then_again_trains_and_resumes() {
    let root = scratch("classroom");
    let alp_config = write_config(&root.join("configs-alp"), ALP_GMM_TOML);
    let mut runs = Vec::new();
    for seed in ["0", "1", "2"] {
        let dir = root.join(format!("alp-{seed}"));
        let mut extra = vec!["--config", alp_config.as_str(), "--seed", seed];
        extra.extend(run_args("alp_gmm"));
        cli::succeeded(&cli::train_into(&dir, &[], &extra));
        let entry: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("classroom_entry.json")).unwrap(),
        )
        .unwrap();
        let student = &entry["student"];
        // Evaluations at 2048, 4096 and 6144 steps are epochs 1 to 3 (step 0 is not a KC vector).
        let epochs: Vec<u64> = student["kc_vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kc| kc["epoch"].as_u64().unwrap())
            .collect();
        assert_eq!(epochs, vec![1, 2, 3]);
        assert!(!student["history"]["fits"].as_array().unwrap().is_empty());
        assert_eq!(student["params"]["env"], "point_mass");
        assert_eq!(student["params"]["seed"], seed.parse::<u64>().unwrap());
        runs.push(dir);
    }

    // Build (keeping everybody: the point mass' ALPs may all stay below 0.2).
    let room = root.join("room.json");
    let mut args = vec!["classroom", "build"];
    args.extend(runs.iter().map(|r| r.to_str().unwrap()));
    args.extend(["--out", room.to_str().unwrap(), "--keep-all"]);
    let (stdout, _) = cli::succeeded(&teachgym(&args));
    assert!(stdout.contains("classroom of 3 students"), "{stdout}");
    // A threshold nobody passes is a clear error.
    let mut strict = args.clone();
    strict.truncate(strict.len() - 1);
    strict.extend(["--alp-threshold", "1e9"]);
    let stderr = cli::failed(&teachgym(&strict));
    assert!(
        stderr.contains("no student enters the classroom"),
        "{stderr}"
    );
    // A directory without an entry.
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let stderr = cli::failed(&teachgym(&[
        "classroom",
        "build",
        empty.to_str().unwrap(),
        "--out",
        root.join("x.json").to_str().unwrap(),
    ]));
    assert!(stderr.contains("has no classroom_entry.json"), "{stderr}");

    // AGAIN on a new student.
    let again_config = write_config(&root.join("configs-again"), AGAIN_TOML);
    let whole = root.join("again");
    let mut extra = vec![
        "--config",
        again_config.as_str(),
        "--seed",
        "7",
        "--classroom",
        room.to_str().unwrap(),
    ];
    extra.extend(run_args("again"));
    let (stdout, _) = cli::succeeded(&cli::train_into(&whole, &[], &extra));
    assert!(stdout.contains("final evaluation"), "{stdout}");
    let config = std::fs::read_to_string(whole.join("config.toml")).unwrap();
    assert!(config.contains("room.json"), "{config}");
    // AGAIN writes no classroom entry of its own.
    assert!(!whole.join("classroom_entry.json").exists());

    // Stopped after the pre-test and resumed: the same run.
    let parts = root.join("again-parts");
    let mut first = extra.clone();
    first.extend(["--stop-after", "4096"]);
    cli::succeeded(&cli::train_into(&parts, &[], &first));
    cli::succeeded(&teachgym(&[
        "train",
        "--quiet",
        "--resume",
        "--out",
        parts.to_str().unwrap(),
    ]));
    for file in ["evaluations.csv", "episodes.csv"] {
        assert_eq!(
            std::fs::read_to_string(whole.join(file)).unwrap(),
            std::fs::read_to_string(parts.join(file)).unwrap(),
            "{file} differs after a resume"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn again_without_a_classroom_says_what_is_missing() {
    let dir = scratch("again-missing");
    let stderr = cli::failed(&cli::train_into(&dir, &run_args("again"), &[]));
    assert!(stderr.contains("needs a classroom"), "{stderr}");
    let stderr = cli::failed(&cli::train_into(
        &dir,
        &run_args("again"),
        &["--classroom", "/nonexistent/room.json"],
    ));
    assert!(stderr.contains("/nonexistent/room.json"), "{stderr}");
}
