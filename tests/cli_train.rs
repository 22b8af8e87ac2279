//! `teachgym train` / `teachgym eval` end to end: every artefact is written, a run stopped and
//! resumed equals an uninterrupted one file for file, and bad input ends with a clear message
//! and a non-zero exit code, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/cli.rs"]
mod cli;
use cli::{scratch, teachgym};

fn ok(out: &Output) -> String {
    cli::succeeded(out).0
}

fn fails_with(out: &Output, needle: &str) {
    let stderr = cli::failed(out);
    assert!(
        stderr.contains(needle),
        "expected {needle:?} in the error, got: {stderr}"
    );
}

use cli::POINT_MASS_RUN;

fn train(out: &Path, extra: &[&str]) -> Output {
    cli::train_into(out, &POINT_MASS_RUN, extra)
}

#[test]
fn train_writes_every_artefact_and_eval_reads_the_checkpoint() {
    let dir = scratch("artefacts");
    let stdout = ok(&train(&dir, &[]));
    assert!(stdout.contains("final evaluation"), "{stdout}");
    for file in [
        "config.toml",
        "test_set.csv",
        "episodes.csv",
        "evaluations.csv",
        "evaluations.jsonl",
        "checkpoint.json",
        "learning_curve.png",
        "curriculum.png",
        "events.out.tfevents.teachgym",
    ] {
        let path = dir.join(file);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{} is missing or empty", path.display());
    }
    let evaluations = std::fs::read_to_string(dir.join("evaluations.csv")).unwrap();
    // Header + evaluations at 0, 2048, 4096, 6144.
    assert_eq!(evaluations.lines().count(), 5, "{evaluations}");
    let png = std::fs::read(dir.join("learning_curve.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // Two task dimensions: curriculum.png shows them all, no pairwise view.
    assert!(!dir.join("curriculum_pairs.png").exists());
    assert!(!stdout.contains("curriculum_pairs.png"), "{stdout}");

    // The resolved config reproduces the run.
    let again = scratch("artefacts-again");
    ok(&teachgym(&[
        "train",
        "--quiet",
        "--config",
        dir.join("config.toml").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]));
    for file in ["episodes.csv", "evaluations.csv", "checkpoint.json"] {
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            std::fs::read(again.join(file)).unwrap(),
            "{file} differs between a run and a run of its config.toml"
        );
    }

    let gif = dir.join("episode.gif");
    let stdout = ok(&teachgym(&[
        "eval",
        "--checkpoint",
        dir.join("checkpoint.json").to_str().unwrap(),
        "--gif",
        gif.to_str().unwrap(),
    ]));
    assert!(stdout.contains("\"mastered_percent\""), "{stdout}");
    assert!(std::fs::metadata(&gif).unwrap().len() > 0);
    // eval reproduces the run's last evaluation.
    let last = evaluations.lines().last().unwrap();
    let mastered: f64 = last.split(',').nth(1).unwrap().parse().unwrap();
    assert!(
        stdout.contains(&format!("\"mastered_percent\": {mastered:.2}")),
        "{stdout} vs {last}"
    );
}

#[test]
fn a_stopped_and_resumed_run_equals_an_uninterrupted_one() {
    let whole = scratch("whole");
    ok(&train(&whole, &["--threads", "2"]));
    let parts = scratch("parts");
    ok(&train(&parts, &["--threads", "2", "--stop-after", "3000"]));
    let partial = std::fs::read_to_string(parts.join("evaluations.csv")).unwrap();
    assert!(partial.lines().count() < 5, "did not stop early: {partial}");
    // Resuming with another thread count must not matter.
    ok(&teachgym(&[
        "train",
        "--quiet",
        "--resume",
        "--threads",
        "2",
        "--out",
        parts.to_str().unwrap(),
    ]));
    for file in [
        "episodes.csv",
        "evaluations.csv",
        "evaluations.jsonl",
        "checkpoint.json",
    ] {
        assert_eq!(
            std::fs::read_to_string(whole.join(file)).unwrap(),
            std::fs::read_to_string(parts.join(file)).unwrap(),
            "{file} differs after resuming"
        );
    }
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = scratch("bad");
    let out = dir.to_str().unwrap();
    fails_with(
        &teachgym(&["train", "--env", "moon_walk", "--out", out]),
        "unknown environment `moon_walk`",
    );
    fails_with(
        &teachgym(&["train", "--teacher", "oracle", "--out", out]),
        "unknown teacher `oracle`",
    );
    fails_with(
        &teachgym(&["train", "--student", "a2c", "--out", out]),
        "unknown student `a2c`",
    );
    fails_with(
        &teachgym(&[
            "train",
            "--student",
            "dqn",
            "--env",
            "stump_tracks",
            "--out",
            out,
        ]),
        "needs a discrete-action env",
    );
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "point_mass",
            "--bound",
            "mass=2",
            "--out",
            out,
        ]),
        "expected NAME=LOW,HIGH",
    );
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "point_mass",
            "--bound",
            "height=0,1",
            "--out",
            out,
        ]),
        "unknown task dimension `height`",
    );
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "stump_tracks",
            "--body",
            "quadruped",
            "--out",
            out,
        ]),
        "unknown body `quadruped`",
    );
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "webform",
            "--student",
            "dqn",
            "--body",
            "x",
            "--out",
            out,
        ]),
        "no body",
    );

    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    for (text, needle) in [
        (
            "env = \"point_mass\"\n[ppo]\nlearning_rate = \"fast\"\n",
            "invalid value in the [ppo] section",
        ),
        (
            "env = \"point_mass\"\n[ppo]\npreset = \"turbo\"\n",
            "unknown PPO preset `turbo`",
        ),
        (
            "env = \"point_mass\"\n[ppo]\nlearning_rat = 0.1\n",
            "unknown field `learning_rat`",
        ),
        (
            "env = \"point_mass\"\n[trainer]\nnum_env = 4\n",
            "unknown field",
        ),
        ("env = \"point_mass\"\nlearning_rat = 1\n", "unknown field"),
        ("env = [point_mass\n", "malformed config"),
        ("env = \"point_mass\"\n[ppo]\ngamma = 1.5\n", "gamma"),
        (
            "env = \"point_mass\"\n[trainer]\nnum_envs = 0\n",
            "num_envs",
        ),
        (
            "env = \"point_mass\"\nteacher = \"adr\"\nexpert_knowledge = \"none\"\n",
            "teacher `adr` needs expert knowledge",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        fails_with(
            &teachgym(&["train", "--config", config.to_str().unwrap(), "--out", out]),
            needle,
        );
    }
    fails_with(
        &teachgym(&["train", "--config", "/nonexistent/run.toml", "--out", out]),
        "cannot read config file",
    );

    // A run directory: refuse to overwrite, refuse to resume with another configuration,
    // refuse a corrupt checkpoint.
    let run = scratch("bad-run");
    ok(&train(&run, &[]));
    fails_with(&train(&run, &[]), "already holds a run");
    let run_str = run.to_str().unwrap();
    fails_with(
        &teachgym(&["train", "--resume", "--seed", "9", "--out", run_str]),
        "another configuration",
    );
    let checkpoint = run.join("checkpoint.json");
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    std::fs::write(&checkpoint, &text[..text.len() / 2]).unwrap();
    fails_with(
        &teachgym(&["train", "--resume", "--out", run_str]),
        "corrupt",
    );
    fails_with(
        &teachgym(&["eval", "--checkpoint", checkpoint.to_str().unwrap()]),
        "corrupt",
    );
    std::fs::write(
        &checkpoint,
        text.replace(
            "\"format_version\":1,\"config\"",
            "\"format_version\":7,\"config\"",
        ),
    )
    .unwrap();
    fails_with(
        &teachgym(&["eval", "--checkpoint", checkpoint.to_str().unwrap()]),
        "run checkpoint of format 7; this build reads format 1",
    );
    // A student state that does not fit the checkpoint's env.
    std::fs::write(
        &checkpoint,
        text.replace(
            "\"trainer\":{\"format_version\":1,\"student\":\"",
            "\"trainer\":{\"format_version\":1,\"student\":\"x",
        ),
    )
    .unwrap();
    fails_with(
        &teachgym(&["eval", "--checkpoint", checkpoint.to_str().unwrap()]),
        "corrupt student",
    );
    fails_with(
        &teachgym(&["eval", "--checkpoint", "/nonexistent/checkpoint.json"]),
        "cannot read checkpoint",
    );
}

#[test]
fn stump_tracks_trains_end_to_end() {
    let dir = scratch("stump");
    std::fs::create_dir_all(&dir).unwrap();
    // The walkers' PPO preset with a CI-sized rollout.
    let config = dir.join("small.toml");
    std::fs::write(&config, "[ppo]\nrollout_steps = 2048\n").unwrap();
    let out = dir.join("run");
    let stdout = ok(&teachgym(&[
        "train",
        "--quiet",
        "--config",
        config.to_str().unwrap(),
        "--env",
        "stump_tracks",
        "--teacher",
        "riac",
        "--steps",
        "2048",
        "--eval-every",
        "2048",
        "--out",
        out.to_str().unwrap(),
    ]));
    let dir = out;
    assert!(stdout.contains("of 100 test tasks"), "{stdout}");
    let episodes = std::fs::read_to_string(dir.join("episodes.csv")).unwrap();
    assert!(episodes.starts_with(
        "global_step,env_index,episode_index,stump_height,obstacle_spacing,episode_return"
    ));
    // The walkers' default PPO preset, written out in full.
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("preset = \"teachgym_walker\""), "{config}");
    assert!(config.contains("gamma = 0.999"), "{config}");
    assert!(config.contains("rollout_steps = 2048"), "{config}");
}

#[test]
fn dqn_and_categorical_ppo_train_on_the_grid_world() {
    for student in ["dqn", "ppo"] {
        let dir = scratch(&format!("grid-{student}"));
        let stdout = ok(&teachgym(&[
            "train",
            "--quiet",
            "--env",
            "grid_world",
            "--student",
            student,
            "--teacher",
            "covar_gmm",
            "--steps",
            "3000",
            "--eval-every",
            "1500",
            "--out",
            dir.to_str().unwrap(),
        ]));
        assert!(stdout.contains("final evaluation"), "{student}: {stdout}");
        let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
        assert!(config.contains(&format!("[{student}]")), "{config}");
        ok(&teachgym(&[
            "eval",
            "--checkpoint",
            dir.join("checkpoint.json").to_str().unwrap(),
        ]));
    }
}

#[test]
fn qweb_dqn_trains_on_web_forms_and_refuses_mismatched_sections() {
    let dir = scratch("webform");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("webform.toml");
    std::fs::write(
        &config,
        "env = \"webform\"\nstudent = \"dqn\"\nteacher = \"random\"\n\
         [webform]\nmax_fields = 2\nmax_pages = 1\nmax_elements = 16\n\
         task_high = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]\n\
         [qweb]\nlearning_starts = 100\nbatch_size = 16\nencoder_hidden = [16]\n\
         pair_hidden = [16]\nclick_hidden = [16]\n",
    )
    .unwrap();
    let out = dir.join("run");
    let stdout = ok(&teachgym(&[
        "train",
        "--quiet",
        "--config",
        config.to_str().unwrap(),
        "--steps",
        "600",
        "--eval-every",
        "300",
        "--num-envs",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(stdout.contains("final evaluation"), "{stdout}");
    for file in [
        "config.toml",
        "test_set.csv",
        "episodes.csv",
        "evaluations.csv",
        "checkpoint.json",
        "learning_curve.png",
        "curriculum.png",
        // 8 task dimensions: the pairwise view too.
        "curriculum_pairs.png",
    ] {
        let len = std::fs::metadata(out.join(file)).map_or(0, |m| m.len());
        assert!(len > 0, "{file} is missing or empty");
    }
    assert!(stdout.contains("curriculum_pairs.png"), "{stdout}");
    let resolved = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        resolved.contains("[qweb]") && resolved.contains("[webform]"),
        "{resolved}"
    );
    let evaluations = std::fs::read_to_string(out.join("evaluations.csv")).unwrap();
    assert_eq!(evaluations.lines().count(), 1 + 3, "{evaluations}");
    ok(&teachgym(&[
        "eval",
        "--checkpoint",
        out.join("checkpoint.json").to_str().unwrap(),
    ]));

    let bad_out = dir.join("bad");
    let bad_out = bad_out.to_str().unwrap();
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "webform",
            "--student",
            "ppo",
            "--out",
            bad_out,
        ]),
        "cannot train on env `webform`",
    );
    for (text, needle) in [
        (
            "env = \"webform\"\nstudent = \"dqn\"\n[dqn]\nbatch_size = 8\n",
            "[qweb]",
        ),
        (
            "env = \"grid_world\"\nstudent = \"dqn\"\n[qweb]\nbatch_size = 8\n",
            "[qweb]",
        ),
        (
            "env = \"webform\"\nstudent = \"dqn\"\n[webform]\ntask_low = [0.5]\n",
            "task_low",
        ),
        (
            "env = \"webform\"\nstudent = \"dqn\"\n[qweb]\nembedding_dim = 0\n",
            "embedding_dim",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        fails_with(
            &teachgym(&[
                "train",
                "--config",
                config.to_str().unwrap(),
                "--out",
                bad_out,
            ]),
            needle,
        );
    }
}

/// The classroom an AGAIN example config (`NAME_again.toml`) needs, built the way its comment
/// says from a short run of its ALP-GMM sibling (`NAME_alp_gmm.toml`): one PPO iteration on two
/// env copies with 50-step episodes, evaluated at its end so that the entry has a KC vector, kept
/// whatever its ALP (`--keep-all`). `short` are the flags both runs share.
fn classroom_for(again_config: &Path, short: &[&str], root: &Path) -> PathBuf {
    let stem = again_config.file_stem().unwrap().to_string_lossy();
    let sibling = again_config.with_file_name(format!(
        "{}_alp_gmm.toml",
        stem.strip_suffix("_again")
            .unwrap_or_else(|| panic!("{stem}: an AGAIN config is named NAME_again.toml"))
    ));
    assert!(sibling.exists(), "{stem}: no ALP-GMM sibling {sibling:?}");
    let run = root.join("classroom-run");
    let mut args = vec!["train", "--quiet", "--config", sibling.to_str().unwrap()];
    args.extend_from_slice(short);
    args.extend([
        "--steps",
        "2048",
        "--eval-every",
        "2048",
        "--out",
        run.to_str().unwrap(),
    ]);
    ok(&teachgym(&args));
    let room = root.join("classroom.json");
    ok(&teachgym(&[
        "classroom",
        "build",
        run.to_str().unwrap(),
        "--keep-all",
        "--out",
        room.to_str().unwrap(),
    ]));
    room
}

/// The shipped configs are the benchmark's commands: each must resolve (env, student, teacher,
/// test set) and start a run, and the run must keep every task of the test set it names. An
/// AGAIN config starts with a classroom built from its ALP-GMM sibling's runs (its own
/// `classroom` names the file the benchmark script builds).
#[test]
fn every_example_config_starts_a_run() {
    let mut configs: Vec<PathBuf> = std::fs::read_dir("examples/configs")
        .expect("examples/configs exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 9, "found only {configs:?}");
    for config in &configs {
        let name = config.file_stem().unwrap().to_string_lossy().into_owned();
        let out = scratch(&format!("example-{name}"));
        let config_arg = config.to_string_lossy();
        let out_arg = out.to_string_lossy();
        let table: toml::Table = std::fs::read_to_string(config).unwrap().parse().unwrap();
        let mut args = vec![
            "train",
            "--quiet",
            "--config",
            &config_arg,
            "--stop-after",
            "0",
            "--out",
            &out_arg,
        ];
        let classroom_root = scratch(&format!("example-{name}-classroom"));
        let room;
        if table.get("teacher").and_then(|t| t.as_str()) == Some("again") {
            // A walker with short episodes keeps the classroom run to seconds.
            let short = ["--num-envs", "2", "--max-episode-steps", "50"];
            room = classroom_for(config, &short, &classroom_root);
            args.extend(short);
            args.extend(["--classroom", room.to_str().unwrap()]);
        }
        // A [meta] config is `teachgym meta-train`'s: a few steps of each stage.
        let meta = table.contains_key("meta");
        if meta {
            args = vec![
                "meta-train",
                "--config",
                &config_arg,
                "--inet-answers",
                "8",
                "--steps",
                "8",
                "--out",
                &out_arg,
            ];
        }
        ok(&teachgym(&args));
        let artefact = if meta {
            "summary.json"
        } else {
            "checkpoint.json"
        };
        assert!(out.join(artefact).exists(), "{name}: no {artefact}");
        if let Some(named) = table.get("test_set").and_then(|path| path.as_str()) {
            let rows = |path: &Path| std::fs::read_to_string(path).unwrap().lines().count();
            assert_eq!(
                rows(&out.join("test_set.csv")),
                rows(Path::new(named)),
                "{name}: the run's test set differs in size from {named}"
            );
        }
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&classroom_root);
    }
}

/// The env registry is the one list of envs: `teachgym envs` lists exactly its entries (the
/// Python package's test checks its side against the same table), and every one of them trains
/// from the command line with a student that fits it.
#[test]
fn every_registry_env_trains_from_the_cli() {
    use teachgym_envs::registry::{build_env, EnvOptions, ENVS};
    let listed: Vec<String> = ok(&teachgym(&["envs"]))
        .lines()
        .map(|line| line.split_whitespace().next().unwrap().to_string())
        .collect();
    let names: Vec<&str> = ENVS.iter().map(|e| e.name).collect();
    assert_eq!(listed, names);

    let dir = scratch("registry");
    std::fs::create_dir_all(&dir).unwrap();

    // The construction options Python takes as keywords are flags here, applied through the
    // same registry code and recorded in the run's config.
    let flagged = dir.join("flags");
    ok(&teachgym(&[
        "train",
        "--quiet",
        "--env",
        "stump_tracks",
        "--body",
        "small_bipedal",
        "--bound",
        "stump_height=0,0.5",
        "--max-episode-steps",
        "50",
        "--steps",
        "64",
        "--num-envs",
        "2",
        "--eval-every",
        "1000000",
        "--config",
        "/dev/null",
        "--out",
        flagged.to_str().unwrap(),
    ]));
    let saved = std::fs::read_to_string(flagged.join("config.toml")).unwrap();
    for line in [
        "body = \"small_bipedal\"",
        "max_episode_steps = 50",
        "stump_height_bounds = [0.0, 0.5]",
    ] {
        assert!(saved.contains(line), "{line} not in {saved}");
    }
    for entry in ENVS {
        let env = build_env(entry.name, &EnvOptions::default()).unwrap();
        // PPO on flat observations; the web forms' dict observations take the QWeb DQN.
        let student = if env.has_flat_observations() {
            "ppo"
        } else {
            "dqn"
        };
        let space = env.task_space();
        let test_set = dir.join(format!("{}.csv", entry.name));
        std::fs::write(
            &test_set,
            format!(
                "{}\n{}\n",
                space.names().join(","),
                space
                    .low()
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        )
        .unwrap();
        let ppo = if student == "ppo" {
            "[ppo]\nrollout_steps = 128\nminibatch_size = 64\n"
        } else {
            ""
        };
        let config = dir.join(format!("{}.toml", entry.name));
        std::fs::write(
            &config,
            format!(
                "env = \"{}\"\nstudent = \"{student}\"\nteacher = \"random\"\n\
                 [trainer]\ntotal_steps = 256\neval_every = 256\nnum_envs = 2\n\
                 eval_at_start = false\n{ppo}",
                entry.name
            ),
        )
        .unwrap();
        let run = dir.join(entry.name);
        let stdout = ok(&teachgym(&[
            "train",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "--test-set",
            test_set.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
        ]));
        assert!(
            stdout.contains("final evaluation"),
            "{}: {stdout}",
            entry.name
        );
        let saved = std::fs::read_to_string(run.join("config.toml")).unwrap();
        assert!(
            saved.contains(&format!("[{}", entry.config_section)),
            "{}: {saved}",
            entry.name
        );
    }
}

/// With stderr redirected (a log file, CI), where no progress bar is drawn, a run still prints
/// one plain line per evaluation.
#[test]
fn a_run_logs_one_line_per_evaluation_without_a_terminal() {
    let run = scratch("log");
    let log = run.with_extension("stderr.log");
    std::fs::create_dir_all(run.parent().unwrap()).unwrap();
    let file = std::fs::File::create(&log).unwrap();
    let mut args = vec!["train", "--out", run.to_str().unwrap()];
    args.extend_from_slice(&POINT_MASS_RUN);
    let status = Command::new(env!("CARGO_BIN_EXE_teachgym"))
        .args(&args)
        .stderr(file)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("test tasks mastered"))
        .collect();
    let evaluations = std::fs::read_to_string(run.join("evaluations.csv")).unwrap();
    assert_eq!(lines.len(), evaluations.lines().count() - 1, "{text}");
    assert_eq!(lines.len(), 4, "evaluations at 0, 2048, 4096, 6144: {text}");
    assert!(lines[3].starts_with("step       6144:"), "{}", lines[3]);
}

/// The width and height of a PNG file, from its header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{} is not a PNG", path.display());
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// Hexagon Tracks has 12 task dimensions: the pairwise view draws the first 8 (a grid of 8 by
/// 8 cells), the curriculum plot the pair asked for.
#[test]
fn a_twelve_dimensional_run_plots_the_pairs_of_its_first_eight_dimensions() {
    let dir = scratch("hexagon");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("small.toml");
    std::fs::write(&config, "[ppo]\nrollout_steps = 128\nminibatch_size = 64\n").unwrap();
    let run = |out: &Path, dims: Option<&str>| {
        let mut args = vec![
            "train",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "--env",
            "hexagon_tracks",
            "--max-episode-steps",
            "40",
            "--steps",
            "256",
            "--eval-every",
            "256",
            "--num-envs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(dims) = dims {
            args.extend(["--plot-dims", dims]);
        }
        teachgym(&args)
    };
    let out = dir.join("run");
    let stdout = ok(&run(&out, Some("vertex5_dy,vertex0_dx")));
    assert!(stdout.contains("curriculum_pairs.png"), "{stdout}");
    let saved = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        saved.contains("[plot]\ndims = [\"vertex5_dy\", \"vertex0_dx\"]"),
        "{saved}"
    );
    assert_eq!(png_size(&out.join("curriculum.png")), (1800, 540));
    let (width, height) = png_size(&out.join("curriculum_pairs.png"));
    // 8 cells of 175 pixels, the colour bar beside them and the titles above.
    assert_eq!((width, height), (8 * 175 + 140, 64 + 8 * 175 + 10));

    // The same run plotting another pair gives the same run with another curriculum.png.
    let other = dir.join("other");
    ok(&run(&other, None));
    assert_eq!(
        std::fs::read(out.join("episodes.csv")).unwrap(),
        std::fs::read(other.join("episodes.csv")).unwrap()
    );
    assert_ne!(
        std::fs::read(out.join("curriculum.png")).unwrap(),
        std::fs::read(other.join("curriculum.png")).unwrap()
    );
}

#[test]
fn plot_dims_must_name_two_task_dimensions() {
    let dir = scratch("plot-dims");
    let out = dir.to_str().unwrap();
    fails_with(
        &train(&dir, &["--plot-dims", "mass,height"]),
        "`height` is not a task dimension of this env; valid names: target_distance, mass",
    );
    fails_with(
        &train(&dir, &["--plot-dims", "mass"]),
        "takes two task dimensions, got 1",
    );
    fails_with(
        &train(&dir, &["--plot-dims", "mass,mass"]),
        "names `mass` twice",
    );
    // Refused before anything is written.
    assert!(!dir.exists(), "{out} was created");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bad.toml");
    std::fs::write(&config, "[plot]\ndims = [\"x\", \"mass\"]\n").unwrap();
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "point_mass",
            "--config",
            config.to_str().unwrap(),
            "--out",
            &format!("{out}/run"),
        ]),
        "`x` is not a task dimension of this env; valid names: target_distance, mass",
    );
}

/// The plotted pair does not change the run: resuming a finished run with other plot
/// dimensions redraws its plots and records the choice.
#[test]
fn resuming_a_finished_run_with_other_plot_dims_redraws_it() {
    let dir = scratch("replot");
    ok(&train(&dir, &[]));
    let before = std::fs::read(dir.join("curriculum.png")).unwrap();
    let episodes = std::fs::read(dir.join("episodes.csv")).unwrap();
    ok(&teachgym(&[
        "train",
        "--quiet",
        "--resume",
        "--out",
        dir.to_str().unwrap(),
        "--plot-dims",
        "mass,target_distance",
    ]));
    assert_ne!(before, std::fs::read(dir.join("curriculum.png")).unwrap());
    assert_eq!(episodes, std::fs::read(dir.join("episodes.csv")).unwrap());
    let saved = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(
        saved.contains("dims = [\"mass\", \"target_distance\"]"),
        "{saved}"
    );
}

/// Issue 14: `--student sac` trains on the walker with a `[sac]` section over its walker preset,
/// a stopped run resumes to the uninterrupted result (its replay buffer travels in the
/// checkpoint), `eval` reads the checkpoint, and SAC on a discrete env or a bad `[sac]` value
/// is refused with a message naming the problem.
#[test]
fn sac_trains_resumes_and_evaluates_on_the_walker() {
    let dir = scratch("sac");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("sac.toml");
    std::fs::write(
        &config,
        "env = \"stump_tracks\"\nstudent = \"sac\"\nteacher = \"alp_gmm\"\n\
         [walker]\nmax_episode_steps = 60\n\
         [trainer]\ntotal_steps = 480\neval_every = 240\nnum_envs = 2\n\
         [sac]\nhidden_sizes = [16, 16]\nbatch_size = 32\nstart_steps = 100\n\
         learning_starts = 100\nupdates = { kind = \"env_steps\", train_frequency = 8, gradient_steps = 2 }\n",
    )
    .unwrap();
    let test_set = dir.join("tasks.csv");
    std::fs::write(
        &test_set,
        "stump_height,obstacle_spacing\n0.0,6.0\n1.0,2.0\n",
    )
    .unwrap();
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "--test-set",
            test_set.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        teachgym(&args)
    };
    let whole = dir.join("whole");
    let stdout = ok(&run(&whole, &[]));
    assert!(stdout.contains("final evaluation"), "{stdout}");
    let saved = std::fs::read_to_string(whole.join("config.toml")).unwrap();
    for line in [
        "[sac]",
        "preset = \"teachgym_walker\"",
        "hidden_sizes = [16, 16]",
        "gamma = 0.98",
        "kind = \"env_steps\"",
    ] {
        assert!(saved.contains(line), "{line} not in {saved}");
    }
    let stopped = dir.join("stopped");
    ok(&run(&stopped, &["--stop-after", "240"]));
    ok(&run(&stopped, &["--resume", "--threads", "1"]));
    for file in ["episodes.csv", "evaluations.csv"] {
        assert_eq!(
            std::fs::read_to_string(whole.join(file)).unwrap(),
            std::fs::read_to_string(stopped.join(file)).unwrap(),
            "{file}"
        );
    }
    ok(&teachgym(&[
        "eval",
        "--checkpoint",
        whole.join("checkpoint.json").to_str().unwrap(),
    ]));

    let bad = dir.join("bad");
    fails_with(
        &teachgym(&[
            "train",
            "--env",
            "grid_world",
            "--student",
            "sac",
            "--out",
            bad.to_str().unwrap(),
        ]),
        "student `sac` needs continuous (Box) actions",
    );
    for (text, needle) in [
        (
            "student = \"sac\"\n[sac]\nalpha = -1.0\n",
            "`alpha` must be finite and > 0",
        ),
        (
            "student = \"sac\"\n[sac]\nbatch_size = 300\nbuffer_size = 200\n",
            "`batch_size`",
        ),
        (
            "student = \"sac\"\n[sac]\npreset = \"spinup\"\n",
            "unknown SAC preset `spinup`",
        ),
        (
            "student = \"sac\"\n[sac]\nalhpa = 1.0\n",
            "unknown field `alhpa` in [sac]",
        ),
        (
            "student = \"ppo\"\n[sac]\nalpha = 1.0\n",
            "a [sac] section was given for student `ppo`",
        ),
    ] {
        let file = dir.join("bad.toml");
        std::fs::write(&file, format!("env = \"point_mass\"\n{text}")).unwrap();
        fails_with(
            &teachgym(&[
                "train",
                "--config",
                file.to_str().unwrap(),
                "--out",
                bad.to_str().unwrap(),
            ]),
            needle,
        );
    }
}

/// The point mass's task columns of `episodes.csv`, by their header names.
fn episode_tasks(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("episodes.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let (a, b) = (column("target_distance"), column("mass"));
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[a].to_string(), cells[b].to_string())
        })
        .collect()
}

#[test]
fn shuffle_dimensions_maps_the_teachers_tasks_and_resumes_exactly() {
    let base = [
        "--env",
        "point_mass",
        "--steps",
        "6144",
        "--eval-every",
        "2048",
        "--num-envs",
        "4",
    ];
    let plain = scratch("unshuffled");
    ok(&cli::train_into(&plain, &base, &["--teacher", "random"]));
    let shuffled = scratch("shuffled");
    ok(&cli::train_into(
        &shuffled,
        &base,
        &["--teacher", "random", "--shuffle-dimensions"],
    ));
    let config = std::fs::read_to_string(shuffled.join("config.toml")).unwrap();
    assert!(config.contains("shuffle_dimensions = true"), "{config}");
    // The same teacher seed draws the same teacher tasks; the env sees them permuted.
    let (p, s) = (episode_tasks(&plain), episode_tasks(&shuffled));
    assert!(!s.is_empty());
    let same = p.iter().zip(&s).filter(|(a, b)| a == b).count();
    assert!(
        same * 4 < s.len(),
        "{same} of {} tasks unchanged by the shuffle",
        s.len()
    );

    // SPDL asks for value estimates: through the shuffle, stopped and resumed, it must equal an
    // uninterrupted run.
    let spdl = [
        "--teacher",
        "spdl",
        "--shuffle-dimensions",
        "--threads",
        "1",
    ];
    let whole = scratch("shuffled-spdl-whole");
    ok(&cli::train_into(&whole, &base, &spdl));
    let parts = scratch("shuffled-spdl-parts");
    let mut stopped = spdl.to_vec();
    stopped.extend(["--stop-after", "3000"]);
    ok(&cli::train_into(&parts, &base, &stopped));
    ok(&teachgym(&[
        "train",
        "--quiet",
        "--resume",
        "--out",
        parts.to_str().unwrap(),
    ]));
    for file in ["episodes.csv", "evaluations.csv", "checkpoint.json"] {
        assert_eq!(
            std::fs::read_to_string(whole.join(file)).unwrap(),
            std::fs::read_to_string(parts.join(file)).unwrap(),
            "{file} differs after resuming the shuffled SPDL run"
        );
    }
}

/// Without `--test-set`, a Parkour run is tested on its body's fixed skill set (TeachMyAgent's
/// protocol: the swimming set for the fish, the climbing set for a climber, the walking set for
/// walkers), and on draws from its own space when that space is too narrow to hold the set.
#[test]
fn parkour_runs_test_on_their_bodys_skill_set_when_their_space_holds_it() {
    let dir = scratch("parkour_test_sets");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("short.toml");
    std::fs::write(
        &config,
        "env = \"parkour\"\n[trainer]\ntotal_steps = 64\neval_every = 64\nnum_envs = 2\n\
         eval_at_start = false\n[ppo]\nrollout_steps = 64\nminibatch_size = 32\n",
    )
    .unwrap();
    let stored = |skill: &str| {
        std::fs::read_to_string(format!("examples/test_sets/parkour_{skill}.csv")).unwrap()
    };
    let run = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec![
            "--config",
            config.to_str().unwrap(),
            "--max-episode-steps",
            "5",
        ];
        args.extend_from_slice(extra);
        ok(&cli::train_into(&out, &args, &[]));
        std::fs::read_to_string(out.join("test_set.csv")).unwrap()
    };
    for (body, skill) in [
        ("classic_bipedal", "walking"),
        ("fish", "swimming"),
        ("climbing_profile_chimpanzee", "climbing"),
    ] {
        assert_eq!(run(body, &["--body", body]), stored(skill), "{body}");
    }
    // An easy corner of the CPPN's inputs cannot hold the walking set: 100 draws from it.
    let corner = run("corner", &["--bound", "input_vector_0=-0.25,-0.05"]);
    assert_ne!(corner, stored("walking"));
    assert_eq!(corner.lines().count(), 101);
    for row in corner.lines().skip(1) {
        let first: f64 = row.split(',').next().unwrap().parse().unwrap();
        assert!((-0.25..=-0.05).contains(&first), "{row}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
