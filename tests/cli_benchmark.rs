//! `teachgym benchmark` and `teachgym report` end to end on the point mass: the pool size does
//! not change any run's results, a benchmark killed mid-way and started again ends with the
//! same report as an uninterrupted one, more seeds extend a benchmark without re-running
//! anything, and bad specs end with a message naming the field. Also the forgetting student
//! (`student_reset_every`), stopped and resumed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/cli.rs"]
mod cli;
use cli::{scratch, teachgym};

/// Two teachers × 2 seeds of a two-iteration PPO run on the point mass, evaluated at steps 0,
/// 2048 and 4096.
const SPEC: &str = r#"
name = "pm"
description = "point mass, tiny"
teachers = ["random", "alp_gmm"]
seeds = 2
budget = 4096
eval_every = 2048
[run]
env = "point_mass"
[run.trainer]
num_envs = 4
"#;

fn write_spec(dir: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("spec.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn benchmark(spec: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "benchmark",
        "--quiet",
        "--spec",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli::succeeded(&teachgym(&args)).0
}

/// The report's CSV files, by name.
fn report(dir: &Path) -> Vec<(String, String)> {
    cli::succeeded(&teachgym(&["report", dir.to_str().unwrap()]));
    ["summary.csv", "runs.csv", "curves.csv"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join("report").join(name)).unwrap();
            (name.to_string(), text)
        })
        .collect()
}

const RUNS: [&str; 4] = [
    "pm/random/seed0",
    "pm/random/seed1",
    "pm/alp_gmm-none/seed0",
    "pm/alp_gmm-none/seed1",
];

fn evaluations(dir: &Path, run: &str) -> Vec<u8> {
    std::fs::read(dir.join(run).join("evaluations.jsonl")).unwrap()
}

#[test]
fn pool_size_kills_and_more_seeds_leave_the_results_unchanged() {
    let base = scratch("pool");
    let spec = write_spec(&base, SPEC);

    // One worker.
    let one = base.join("one");
    let stdout = benchmark(&spec, &one, &["--jobs", "1"]);
    assert!(
        stdout.contains("4 runs: 0 finished before, 4 run now"),
        "{stdout}"
    );
    for run in RUNS {
        assert!(one.join(run).join("summary.json").exists(), "{run}");
    }
    let expected = report(&one);
    let summary = &expected[0].1;
    assert_eq!(summary.lines().count(), 3, "{summary}");
    assert!(summary.contains("\npm,none,random,-,2,0,"), "{summary}");
    for name in ["report.md", "curves_pm.png", "curricula/pm/random.png"] {
        assert!(one.join("report").join(name).exists(), "{name}");
    }

    // Two workers: every run's evaluations are the same bytes.
    let two = base.join("two");
    benchmark(&spec, &two, &["--jobs", "2"]);
    for run in RUNS {
        assert_eq!(evaluations(&one, run), evaluations(&two, run), "{run}");
    }
    assert_eq!(report(&two), expected);

    // Killed once some run has a checkpoint, then started again.
    let killed = base.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(["benchmark", "--quiet", "--jobs", "2", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&killed)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !RUNS
        .iter()
        .any(|run| killed.join(run).join("checkpoint.json").exists())
    {
        assert!(started.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let unfinished = RUNS
        .iter()
        .filter(|run| !killed.join(run).join("summary.json").exists())
        .count();
    assert!(unfinished > 0, "the kill came too late to test anything");
    // The workers exit when the benchmark dies (their stdin closes).
    std::thread::sleep(Duration::from_millis(500));
    let stdout = benchmark(&spec, &killed, &["--jobs", "2"]);
    assert!(stdout.contains("4 runs:"), "{stdout}");
    assert_eq!(report(&killed), expected);

    // More seeds: the finished runs are kept, only the new seed runs.
    let before: Vec<_> = RUNS
        .iter()
        .map(|run| {
            std::fs::metadata(one.join(run).join("summary.json"))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    let stdout = benchmark(&spec, &one, &["--seeds", "3", "--jobs", "2"]);
    assert!(
        stdout.contains("6 runs: 4 finished before, 2 run now"),
        "{stdout}"
    );
    for (run, modified) in RUNS.iter().zip(before) {
        let now = std::fs::metadata(one.join(run).join("summary.json"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(now, modified, "{run} was run again");
    }
    let extended = report(&one);
    assert!(
        extended[0].1.contains("\npm,none,random,-,3,0,"),
        "{}",
        extended[0].1
    );

    // A changed spec over the same directory is refused before anything runs.
    let out = teachgym(&[
        "benchmark",
        "--spec",
        spec.to_str().unwrap(),
        "--out",
        one.to_str().unwrap(),
        "--budget",
        "8192",
    ]);
    let stderr = cli::failed(&out);
    assert!(stderr.contains("another configuration"), "{stderr}");
    assert!(stderr.contains("trainer"), "{stderr}");
}

#[test]
fn bad_specs_and_names_end_with_a_clear_message() {
    let base = scratch("bad");
    let out = base.join("out");
    for (edit, needle) in [
        (("budget = 4096", "budget = 0"), "budget"),
        (("seeds = 2", "seeds = -1"), "seeds"),
        (
            ("\"alp_gmm\"]", "\"alp_gmn\"]"),
            "unknown teacher `alp_gmn`",
        ),
        (("num_envs = 4", "num_envs = 0"), "num_envs"),
        (("env = \"point_mass\"", "env = \"moon\""), "moon"),
        (("[run]", "[run]\nseed = 3"), "run.seed"),
    ] {
        let spec = write_spec(&base, &SPEC.replacen(edit.0, edit.1, 1));
        let output = teachgym(&[
            "benchmark",
            "--spec",
            spec.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = cli::failed(&output);
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    let stderr = cli::failed(&teachgym(&["benchmark", "--spec", "no_such_spec"]));
    assert!(stderr.contains("mostly_unfeasible"), "{stderr}");
    let stdout = cli::succeeded(&teachgym(&["benchmark", "--list"])).0;
    assert_eq!(
        stdout.lines().count(),
        teachgym::benchmark::BUILT_IN_SPECS.len(),
        "{stdout}"
    );
    let stderr = cli::failed(&teachgym(&["report", base.to_str().unwrap()]));
    assert!(stderr.contains("no benchmark cell"), "{stderr}");
}

#[test]
fn the_ray_engine_says_what_it_needs() {
    let base = scratch("ray");
    let spec = write_spec(&base, SPEC);
    let spec = spec.to_str().unwrap();
    let stderr = cli::failed(&teachgym(&[
        "benchmark",
        "--spec",
        spec,
        "--ray-address",
        "auto",
    ]));
    assert!(
        stderr.contains("--ray-address needs --engine ray"),
        "{stderr}"
    );
    let stderr = cli::failed(&teachgym(&["benchmark", "--spec", spec, "--engine", "rey"]));
    assert!(
        stderr.contains("local") && stderr.contains("ray"),
        "{stderr}"
    );
    // An interpreter without the package: the error names the module and how to install it.
    let output = Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(["benchmark", "--engine", "ray", "--spec", spec, "--out"])
        .arg(base.join("out"))
        .env("TEACHGYM_PYTHON", "/bin/false")
        .output()
        .unwrap();
    let stderr = cli::failed(&output);
    assert!(
        stderr.contains("teachgym.ray_benchmark") && stderr.contains("pip install"),
        "{stderr}"
    );
}

#[test]
fn a_forgetting_student_resumes_exactly() {
    let base = scratch("forgetting");
    let config = base.join("reset.toml");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        &config,
        "env = \"point_mass\"\nstudent_reset_every = 2048\n",
    )
    .unwrap();
    let run = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["--config", config.to_str().unwrap()];
        args.extend_from_slice(&cli::POINT_MASS_RUN);
        args.extend_from_slice(extra);
        cli::succeeded(&cli::train_into(dir, &args, &[]));
    };
    let whole = base.join("whole");
    run(&whole, &[]);
    let split = base.join("split");
    run(&split, &["--stop-after", "2048"]);
    assert!(!split.join("summary.json").exists());
    run(&split, &["--resume"]);
    for file in ["evaluations.jsonl", "episodes.csv", "summary.json"] {
        assert_eq!(
            std::fs::read(whole.join(file)).unwrap(),
            std::fs::read(split.join(file)).unwrap(),
            "{file}"
        );
    }
    // Without the resets, the episodes after the first reset differ.
    let plain = base.join("plain");
    cli::succeeded(&cli::train_into(&plain, &cli::POINT_MASS_RUN, &[]));
    let episodes = |dir: &Path| std::fs::read_to_string(dir.join("episodes.csv")).unwrap();
    assert_ne!(episodes(&plain), episodes(&whole));
    let bad = base.join("bad.toml");
    std::fs::write(&bad, "env = \"point_mass\"\nstudent_reset_every = 0\n").unwrap();
    let out = teachgym(&[
        "train",
        "--config",
        bad.to_str().unwrap(),
        "--out",
        base.join("x").to_str().unwrap(),
    ]);
    assert!(cli::failed(&out).contains("student_reset_every"));
}
