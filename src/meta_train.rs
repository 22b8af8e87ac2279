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
//! | `episodes.csv` | every training episode: env step at its end, env copy, episode index, the task vector its form was generated from, return, length, success (the generated goal reached) |
//! | `evaluations.csv` | every evaluation: env step, % of the test set mastered, mean test return |
//! | `checkpoint.json` | the run's state after its last evaluation (the student with its replay buffer, the teacher, the running episodes, the evaluations so far): `--resume` continues from it exactly; removed when the run ends |
//! | `qweb.json` | the trained QWeb student (`QwebDqnAgent::to_json`, replay buffer included; not a `teachgym eval` run checkpoint); written when the run ends |
//! | `summary.json` | the final numbers; written when the run ends |
//!
//! A run stopped at any moment (or with `--stop-after`) continues with `--resume` from its
//! last checkpoint, and ends with the files an uninterrupted run writes, byte for byte.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use teachgym_students::qweb::FormShape;
use teachgym_students::TrainerCheckpoint;
use teachgym_students::{
    train_inet, Evaluation, Inet, InetAccuracy, MetaQweb, QwebDqnAgent, TestSet,
};
use teachgym_teachers::build_teacher;

use crate::train::{
    append, describe_difference, episodes_header, read_versioned_checkpoint, truncate_rows,
    write_atomically, write_episode, write_evaluation, write_file, RunConfig, StudentKind,
    EVALUATIONS_HEADER,
};

/// Version of a meta-train run's `checkpoint.json`.
const META_RUN_CHECKPOINT_VERSION: u32 = 1;

/// What `teachgym meta-train` is asked to do.
#[derive(Debug, Clone)]
pub struct MetaTrainOptions {
    /// The run configuration (flags applied).
    pub config: RunConfig,
    /// Run directory.
    pub out: PathBuf,
    /// A trained INET (`inet.json` of an earlier run) to use instead of training one.
    pub inet: Option<PathBuf>,
    /// Continue the run in `out` from its checkpoint (its own INET, test set and
    /// configuration; only the thread count may differ).
    pub resume: bool,
    /// Stop with a checkpoint once this many env steps are done (continue with `resume`).
    pub stop_after: Option<u64>,
}

/// The numbers of a run (`summary.json` once it is finished).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaTrainSummary {
    /// INET's accuracy checks (empty when loaded with `--inet`).
    pub inet_accuracy: Vec<InetAccuracyRow>,
    /// Env steps of MetaQWeb training.
    pub steps: u64,
    /// % of the test set mastered at the last evaluation (`None` before the first one).
    pub final_mastered_percent: Option<f64>,
    /// Mean test return at the last evaluation.
    pub final_mean_return: Option<f64>,
    /// Best % mastered over the evaluations.
    pub best_mastered_percent: Option<f64>,
    /// Wall time of INET's training and of MetaQWeb's (summed over resumes), in seconds.
    pub seconds: [f64; 2],
    /// Whether the budget is spent (false: stopped by `stop_after`, continue with `resume`).
    #[serde(default = "finished_default")]
    pub finished: bool,
}

fn finished_default() -> bool {
    true
}

/// One INET accuracy check.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
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

/// The appending CSV writer of `episodes.csv` and `evaluations.csv`.
type RowWriter = csv::Writer<std::io::BufWriter<std::fs::File>>;

/// A meta-train run's `checkpoint.json`: MetaQWeb's state plus what the run directory needs.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaRunCheckpoint {
    format_version: u32,
    /// The resolved configuration, TOML (`config.toml`'s text).
    config: String,
    run: TrainerCheckpoint<usize>,
    /// Every evaluation so far (`evaluations.csv` is rewritten from them on resume).
    evaluations: Vec<Evaluation>,
    /// INET's accuracy checks (empty when it was loaded with `--inet`).
    inet_accuracy: Vec<InetAccuracyRow>,
    /// Wall time of INET's training and of MetaQWeb's so far, in seconds.
    seconds: [f64; 2],
}

fn read_meta_checkpoint(path: &Path) -> Result<MetaRunCheckpoint> {
    read_versioned_checkpoint(
        path,
        "meta-train",
        "teachgym meta-train",
        META_RUN_CHECKPOINT_VERSION,
        "is a corrupt meta-train checkpoint",
    )
}

/// Runs `teachgym meta-train` (see the module docs); prints one line per INET check and per
/// evaluation on stderr.
///
/// # Errors
/// A configuration that is not `webform` with student `dqn`, invalid sections, an unreadable
/// or corrupt `--inet` file, a directory that holds an unfinished run (without `resume`), a
/// checkpoint of another configuration or a corrupt one, I/O errors.
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
    let out = &options.out;
    // The configuration as the run directory records it: `[meta]` with every value explicit.
    let recorded = RunConfig {
        meta: Some(meta.clone()),
        ..config.clone()
    };
    let config_toml = recorded.to_toml()?;
    let checkpoint_path = out.join("checkpoint.json");
    let summary_path = out.join("summary.json");
    let evaluations_path = out.join("evaluations.csv");
    let episodes_path = out.join("episodes.csv");
    let teacher = build_teacher(
        &config.teacher,
        space.clone(),
        config.seed,
        config.teacher_config.clone().unwrap_or_default(),
    )?;

    let has_checkpoint = checkpoint_path.exists();
    if options.resume && !has_checkpoint && summary_path.exists() {
        // A finished run: nothing to train.
        let text = std::fs::read_to_string(&summary_path)
            .with_context(|| format!("cannot read {}", summary_path.display()))?;
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt", summary_path.display()));
    }
    if options.resume && options.inet.is_some() {
        bail!("--inet starts a run; a resumed run keeps its own inet.json");
    }
    let (mut run, mut evaluations, inet_accuracy, inet_seconds, mut meta_seconds) = if options
        .resume
        && has_checkpoint
    {
        let checkpoint = read_meta_checkpoint(&checkpoint_path)?;
        let mut saved = RunConfig::from_toml_str(&checkpoint.config)
            .context("the checkpoint's configuration is corrupt")?;
        // The thread count does not change the results: a resume may change it.
        saved.trainer.threads = config.trainer.threads;
        if saved != recorded {
            bail!(
                "{} was written by another configuration ({}); resume with the run's own \
                 config.toml and flags, or train into a new --out directory",
                checkpoint_path.display(),
                describe_difference(&saved, &recorded)
            );
        }
        let inet_path = out.join("inet.json");
        let text = std::fs::read_to_string(&inet_path)
            .with_context(|| format!("cannot read {} to resume", inet_path.display()))?;
        let inet = Inet::from_json(&text).with_context(|| inet_path.display().to_string())?;
        let test_set = TestSet::load(&space, &out.join("test_set.csv"))?;
        // The episodes the env copies had finished at the checkpoint are the rows it keeps.
        let episode_rows: u64 = checkpoint
            .run
            .envs
            .episodes
            .iter()
            .map(|e| e.episode_index)
            .sum();
        let run = MetaQweb::resume(
            config.trainer.clone(),
            &web,
            &inet,
            checkpoint.run,
            teacher,
            test_set,
        )
        .with_context(|| format!("cannot resume from {}", checkpoint_path.display()))?;
        // evaluations.csv is written again from the checkpoint's evaluations below: a row
        // written after the checkpoint (an evaluation the kill interrupted) goes.
        write_file(&evaluations_path, EVALUATIONS_HEADER)?;
        truncate_rows(&episodes_path, episode_rows)?;
        eprintln!(
            "resuming MetaQWeb at step {} of {}",
            run.global_step(),
            config.trainer.total_steps
        );
        let [inet_seconds, meta_seconds] = checkpoint.seconds;
        (
            run,
            checkpoint.evaluations,
            checkpoint.inet_accuracy,
            inet_seconds,
            meta_seconds,
        )
    } else {
        if has_checkpoint {
            bail!(
                "{} holds an unfinished run; pass --resume to continue it, or choose another --out",
                out.display()
            );
        }
        if options.resume {
            eprintln!(
                "note: {} holds no checkpoint (the run there stopped before its first one): \
                 starting the run from the beginning",
                out.display()
            );
        }
        let test_set = config.test_set(&space)?;
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        // A summary left by an earlier run in this directory would mark this one finished.
        if summary_path.exists() {
            std::fs::remove_file(&summary_path)
                .with_context(|| format!("cannot write {}", summary_path.display()))?;
        }
        write_file(&out.join("config.toml"), &config_toml)?;
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
                write_file(&out.join("inet_accuracy.csv"), &csv)?;
                (inet, accuracy)
            }
        };
        write_file(&out.join("inet.json"), &inet.to_json())?;
        let inet_seconds = started.elapsed().as_secs_f64();
        let student = QwebDqnAgent::new(qweb, FormShape::of(&web), config.seed)?;
        let run = MetaQweb::new(
            config.trainer.clone(),
            &web,
            &inet,
            student,
            teacher,
            test_set,
            config.seed,
        )?;
        write_file(&evaluations_path, EVALUATIONS_HEADER)?;
        write_file(&episodes_path, &episodes_header(&space))?;
        let accuracy: Vec<InetAccuracyRow> = accuracy.into_iter().map(Into::into).collect();
        (run, Vec::new(), accuracy, inet_seconds, 0.0)
    };

    let started = Instant::now();
    let mut evaluations_file = csv::Writer::from_writer(append(&evaluations_path)?);
    for e in &evaluations {
        write_evaluation(&mut evaluations_file, e)
            .with_context(|| format!("cannot write {}", evaluations_path.display()))?;
    }
    let mut episodes_file = csv::Writer::from_writer(append(&episodes_path)?);
    let flush = |episodes_file: &mut RowWriter, evaluations_file: &mut RowWriter| -> Result<()> {
        episodes_file
            .flush()
            .with_context(|| format!("cannot write {}", episodes_path.display()))?;
        evaluations_file
            .flush()
            .with_context(|| format!("cannot write {}", evaluations_path.display()))
    };
    // Every row is on disk before the checkpoint counts it.
    let checkpoint = |run: &MetaQweb,
                      evaluations: &[Evaluation],
                      episodes_file: &mut RowWriter,
                      evaluations_file: &mut RowWriter|
     -> Result<()> {
        flush(episodes_file, evaluations_file)?;
        let state = MetaRunCheckpoint {
            format_version: META_RUN_CHECKPOINT_VERSION,
            config: config_toml.clone(),
            run: run.checkpoint()?,
            evaluations: evaluations.to_vec(),
            inet_accuracy: inet_accuracy.clone(),
            seconds: [inet_seconds, meta_seconds + started.elapsed().as_secs_f64()],
        };
        write_atomically(&checkpoint_path, &serde_json::to_string(&state)?)
    };
    while !run.is_done() {
        if options
            .stop_after
            .is_some_and(|stop| run.global_step() >= stop)
        {
            checkpoint(
                &run,
                &evaluations,
                &mut episodes_file,
                &mut evaluations_file,
            )?;
            eprintln!(
                "stopped at step {} as asked; continue with --resume",
                run.global_step()
            );
            break;
        }
        if let Some(e) = run.step()? {
            eprintln!(
                "MetaQWeb step {}: {:.1} % of the test set mastered, mean test return {:.3}",
                e.global_step, e.mastered_percent, e.mean_return
            );
            write_evaluation(&mut evaluations_file, &e)
                .with_context(|| format!("cannot write {}", evaluations_path.display()))?;
            evaluations.push(e);
            if !run.is_done() {
                checkpoint(
                    &run,
                    &evaluations,
                    &mut episodes_file,
                    &mut evaluations_file,
                )?;
            }
        }
        for episode in run.drain_episodes() {
            write_episode(&mut episodes_file, &episode)?;
        }
    }
    flush(&mut episodes_file, &mut evaluations_file)?;
    meta_seconds += started.elapsed().as_secs_f64();
    let finished = run.is_done();
    let last = evaluations.last();
    let summary = MetaTrainSummary {
        inet_accuracy,
        steps: run.global_step(),
        final_mastered_percent: last.map(|e| e.mastered_percent),
        final_mean_return: last.map(|e| e.mean_return),
        best_mastered_percent: evaluations
            .iter()
            .map(|e| e.mastered_percent)
            .reduce(f64::max),
        seconds: [inet_seconds, meta_seconds],
        finished,
    };
    if finished {
        write_file(&out.join("qweb.json"), &run.student().to_json())?;
        write_file(&summary_path, &serde_json::to_string_pretty(&summary)?)?;
        if checkpoint_path.exists() {
            std::fs::remove_file(&checkpoint_path)
                .with_context(|| format!("cannot remove {}", checkpoint_path.display()))?;
        }
    }
    Ok(summary)
}
