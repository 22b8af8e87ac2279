//! `teachgym meta-train`: QWeb's meta-trainer without an expert as a run
//! ([`teachgym_students::meta_qweb`]). It reads the same run configuration as `teachgym train`
//! (env `webform`, student `dqn`: `[webform]`, `[qweb]`, `[trainer]`, the teacher that draws
//! the forms' task vectors, the test set) plus its own `[meta]` section, trains INET on the
//! instruction-generation env (or loads a trained one), then MetaQWeb, evaluating on the test
//! set's real forms.
//!
//! The run directory holds:
//!
//! | file | what |
//! |---|---|
//! | `config.toml` | the resolved configuration, every value explicit |
//! | `test_set.csv` | the test tasks |
//! | `inet.json` | the frozen INET (`--inet` loads one instead of training) |
//! | `inet_accuracy.csv` | INET's greedy accuracy (share of keys right) at a quarter, half, three quarters and all of its budget, beside a uniform policy's |
//! | `evaluations.csv` | every evaluation: step, % of the test set mastered, mean test return |
//! | `qweb.json` | the trained QWeb student (`QwebDqnAgent::to_json`, replay buffer included; not a `teachgym eval` run checkpoint) |
//! | `summary.json` | the final numbers; written when the run ends |
//!
//! There is no resume: a run is restarted from the beginning.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use teachgym_students::qweb::FormShape;
use teachgym_students::{train_inet, Evaluation, Inet, InetAccuracy, MetaQweb, QwebDqnAgent};
use teachgym_teachers::build_teacher;

use crate::train::{RunConfig, StudentKind};

/// What `teachgym meta-train` is asked to do.
#[derive(Debug, Clone)]
pub struct MetaTrainOptions {
    /// The run configuration (flags applied).
    pub config: RunConfig,
    /// Run directory.
    pub out: PathBuf,
    /// A trained INET (`inet.json` of an earlier run) to use instead of training one.
    pub inet: Option<PathBuf>,
}

/// The numbers of a finished run (`summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct MetaTrainSummary {
    /// INET's accuracy checks (empty when loaded with `--inet`).
    pub inet_accuracy: Vec<InetAccuracyRow>,
    /// Env steps of MetaQWeb training.
    pub steps: u64,
    /// % of the test set mastered at the last evaluation.
    pub final_mastered_percent: f64,
    /// Mean test return at the last evaluation.
    pub final_mean_return: f64,
    /// Best % mastered over the evaluations.
    pub best_mastered_percent: f64,
    /// Wall time of INET's training and of MetaQWeb's, in seconds.
    pub seconds: [f64; 2],
}

/// One INET accuracy check.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct InetAccuracyRow {
    /// Answers given in training.
    pub answers: u64,
    /// Greedy accuracy in [0, 1].
    pub greedy: f64,
    /// A uniform policy's accuracy on the same forms.
    pub chance: f64,
}

impl From<InetAccuracy> for InetAccuracyRow {
    fn from(a: InetAccuracy) -> Self {
        InetAccuracyRow {
            answers: a.answers,
            greedy: a.greedy,
            chance: a.chance,
        }
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `teachgym meta-train` (see the module docs); prints one line per INET check and per
/// evaluation on stderr.
///
/// # Errors
/// A configuration that is not `webform` with student `dqn`, invalid sections, an unreadable
/// or corrupt `--inet` file, I/O errors.
pub fn meta_train(options: &MetaTrainOptions) -> Result<MetaTrainSummary> {
    let config = options.config.clone().resolve()?;
    if config.env != "webform" || config.student != StudentKind::Dqn {
        bail!(
            "meta-train trains the QWeb DQN on the web forms: it needs env `webform` and student \
             `dqn`, got env `{}` and student `{}`",
            config.env,
            config.student.name()
        );
    }
    let web = config.webform.clone().unwrap_or_default();
    let meta = config.meta.clone().unwrap_or_default();
    let qweb = config.qweb.clone().unwrap_or_default();
    let space = web.bounded_task_space()?;
    let test_set = config.test_set(&space)?;
    let out = &options.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write(
        &out.join("config.toml"),
        &RunConfig {
            meta: Some(meta.clone()),
            ..config.clone()
        }
        .to_toml()?,
    )?;
    test_set.save(&out.join("test_set.csv"))?;

    let started = Instant::now();
    let (inet, accuracy) = match &options.inet {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read INET checkpoint {}", path.display()))?;
            let inet = Inet::from_json(&text)
                .with_context(|| format!("INET checkpoint {}", path.display()))?;
            (inet, Vec::new())
        }
        None => {
            let quarter = meta.inet_answers / 4;
            let marks = [quarter, 2 * quarter, 3 * quarter];
            let (inet, accuracy) = train_inet(&meta, &web, config.seed, &marks)?;
            let mut csv = String::from("answers,greedy_accuracy,chance_accuracy\n");
            for a in &accuracy {
                eprintln!(
                    "INET after {} answers: {:.1} % of keys right (chance {:.1} %)",
                    a.answers,
                    100.0 * a.greedy,
                    100.0 * a.chance
                );
                csv.push_str(&format!("{},{},{}\n", a.answers, a.greedy, a.chance));
            }
            write(&out.join("inet_accuracy.csv"), &csv)?;
            (inet, accuracy)
        }
    };
    write(&out.join("inet.json"), &inet.to_json())?;
    let inet_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let teacher = build_teacher(
        &config.teacher,
        space.clone(),
        config.seed,
        config.teacher_config.clone().unwrap_or_default(),
    )?;
    let student = QwebDqnAgent::new(qweb, FormShape::of(&web), config.seed)?;
    let mut run = MetaQweb::new(
        config.trainer.clone(),
        &web,
        &inet,
        student,
        teacher,
        test_set,
        config.seed,
    )?;
    let evaluations_path = out.join("evaluations.csv");
    let mut evaluations_file = std::fs::File::create(&evaluations_path)
        .with_context(|| format!("cannot write {}", evaluations_path.display()))?;
    writeln!(evaluations_file, "step,mastered_percent,mean_return")?;
    let mut evaluations: Vec<Evaluation> = Vec::new();
    while !run.is_done() {
        if let Some(e) = run.step()? {
            eprintln!(
                "MetaQWeb step {}: {:.1} % of the test set mastered, mean test return {:.3}",
                e.global_step, e.mastered_percent, e.mean_return
            );
            writeln!(
                evaluations_file,
                "{},{},{}",
                e.global_step, e.mastered_percent, e.mean_return
            )?;
            evaluations.push(e);
        }
        run.drain_episodes();
    }
    write(&out.join("qweb.json"), &run.student().to_json())?;
    let last = evaluations.last().context("the run made no evaluation")?;
    let summary = MetaTrainSummary {
        inet_accuracy: accuracy.into_iter().map(Into::into).collect(),
        steps: run.global_step(),
        final_mastered_percent: last.mastered_percent,
        final_mean_return: last.mean_return,
        best_mastered_percent: evaluations
            .iter()
            .map(|e| e.mastered_percent)
            .fold(0.0, f64::max),
        seconds: [inet_seconds, started.elapsed().as_secs_f64()],
    };
    write(
        &out.join("summary.json"),
        &serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(summary)
}
