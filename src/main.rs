//! The `teachgym` command line: train a student with a teacher and evaluate it, render episodes
//! to PNG/GIF, measure throughput, and run the calibration statistics against the Box2D
//! reference.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::HumanCount;
use teachgym::benchmark::{
    load_specs, run_benchmark, BenchmarkOptions, BenchmarkSpec, SpecOverrides, BUILT_IN_SPECS,
};
use teachgym::media::{caption, write_png, GifWriter};
use teachgym::meta_train::{meta_train, MetaTrainOptions};
use teachgym::report::{write_report, ReportOptions};
use teachgym::rollout::{measure_throughput, policy_stats, run_episode, Policy};
use teachgym::train::{eval, train, EvalOptions, RunConfig, TrainOptions};
use teachgym_core::Env;
use teachgym_envs::{Embodiment, WalkerConfig, WalkerEnv, WebFormConfig, WebFormEnv};
use teachgym_teachers::ExpertLevel;

#[derive(Parser)]
#[command(
    name = "teachgym",
    version,
    about = "Procedural RL environments and curriculum teachers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options that select and configure an environment.
#[derive(clap::Args, Clone)]
struct EnvArgs {
    /// Environment: stump_tracks, hexagon_tracks or parkour (the help of each command lists its
    /// own).
    #[arg(long, default_value = "stump_tracks")]
    env: String,
    /// Embodiment of the walker (the list is filled in from the body table).
    #[arg(long, default_value = "classic_bipedal")]
    body: String,
    /// Task vector, comma separated (default: the task space's centre for render, flat for
    /// stats).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    task: Option<Vec<f64>>,
    /// Step limit (default: the env's, 2000).
    #[arg(long)]
    max_episode_steps: Option<u32>,
    /// Solver substeps per step (default: the physics config's).
    #[arg(long)]
    solver_iterations: Option<usize>,
    /// Velocity-solver iterations per substep (default: the physics config's).
    #[arg(long)]
    pgs_iterations: Option<usize>,
}

impl EnvArgs {
    fn build(&self) -> Result<WalkerEnv> {
        let mut config = WalkerConfig::by_name(&self.env)?;
        config.body = Embodiment::from_name(&self.body)?;
        if let Some(n) = self.max_episode_steps {
            config.max_episode_steps = n;
        }
        if let Some(n) = self.solver_iterations {
            config.physics.solver_iterations = n;
        }
        if let Some(n) = self.pgs_iterations {
            config.physics.pgs_iterations = n;
        }
        Ok(WalkerEnv::new(config)?)
    }

    fn task(
        &self,
        env: &WalkerEnv,
        default: impl FnOnce(&WalkerEnv) -> Vec<f64>,
    ) -> Result<Vec<f64>> {
        let task = self.task.clone().unwrap_or_else(|| default(env));
        env.task_space().validate(&task)?;
        Ok(task)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run one episode and write a PNG of a frame and/or an animated GIF of the episode (walker
    /// frames captioned with the step, the return so far and the task; web-form frames show the
    /// form with its instruction).
    Render {
        #[command(flatten)]
        env: EnvArgs,
        /// Reset seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Policy: scripted (the built-in gait) or random.
        #[arg(long, default_value = "scripted")]
        policy: String,
        /// Write this frame (step index) as a PNG.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Step whose frame goes to the PNG (default: 100, or the last one if shorter).
        #[arg(long, default_value_t = 100)]
        png_step: u32,
        /// Write the episode as an animated GIF.
        #[arg(long)]
        gif: Option<PathBuf>,
        /// Keep one frame in this many for the GIF.
        #[arg(long, default_value_t = 4)]
        frame_every: u32,
        /// Write the form at reset as a self-contained HTML page (webform only).
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Measure single-thread steps/s and reset time (random actions).
    Bench {
        #[command(flatten)]
        env: EnvArgs,
        /// Steps to time.
        #[arg(long, default_value_t = 200_000)]
        steps: u64,
        /// Resets to time.
        #[arg(long, default_value_t = 2_000)]
        resets: u64,
        /// Repetitions (reports each, then min and median).
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
    /// List the environments of the env registry (the same set the Python package exposes): name,
    /// gymnasium id, the section of a training config that configures it, and what it is.
    Envs,
    /// List the registered teachers with their default configurations (JSON), or one teacher's.
    Teachers {
        /// Show only this teacher.
        name: Option<String>,
    },
    /// Train a student while a teacher chooses the tasks; writes config, metrics, checkpoints
    /// and plots into --out.
    Train {
        /// Environment: a name of the env registry (`teachgym envs` lists them).
        #[arg(long)]
        env: Option<String>,
        /// Teacher (the names are filled in from the teacher registry).
        #[arg(long)]
        teacher: Option<String>,
        /// How much the teacher knows in advance: none, low (the env's mastery threshold and
        /// ADR's reward thresholds) or high (also a Gaussian around the env's easiest task);
        /// the values come from the env.
        #[arg(long, value_name = "LEVEL", value_parser = parse_expert_level)]
        expert_knowledge: Option<ExpertLevel>,
        /// TeachMyAgent's "rugged difficulty": the teacher samples in a space whose dimensions
        /// are cut into 4 intervals each and permuted (seeded with the run seed).
        #[arg(long)]
        shuffle_dimensions: bool,
        /// Student: ppo, sac (continuous actions: the walkers, point_mass) or dqn (grid_world;
        /// on webform and webform_md the QWeb-style DQN).
        #[arg(long)]
        student: Option<String>,
        /// Training budget in env steps, rounded up to whole learning iterations (the run says
        /// so when it does).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        steps: Option<u64>,
        /// Seed of the run.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_count::<u64>)]
        seed: Option<u64>,
        /// Embodiment of a walker env (the names are filled in from the body table).
        #[arg(long)]
        body: Option<String>,
        /// Bounds of one task dimension, NAME=LOW,HIGH (repeatable), e.g.
        /// `--bound stump_height=0,1.5`.
        #[arg(long = "bound", value_name = "NAME=LOW,HIGH")]
        bounds: Vec<String>,
        /// Step limit of an episode (default: the env's).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u32>)]
        max_episode_steps: Option<u32>,
        /// Worker threads (0 = one per core); results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_count::<usize>)]
        threads: Option<usize>,
        /// Env copies stepped in lock-step.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<usize>)]
        num_envs: Option<usize>,
        /// Evaluate on the test set every this many env steps.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        eval_every: Option<u64>,
        /// Test set CSV (default: the protocol's set for the env).
        #[arg(long)]
        test_set: Option<PathBuf>,
        /// TOML file with any part of the run configuration (a run's config.toml works);
        /// the flags above override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The classroom of the AGAIN teacher (a file from `teachgym classroom build`); sets
        /// [teacher_config] classroom.
        #[arg(long)]
        classroom: Option<PathBuf>,
        /// Run directory.
        #[arg(long, default_value = "runs/latest")]
        out: PathBuf,
        /// Continue the run in --out from its checkpoint, exactly as if never stopped.
        #[arg(long)]
        resume: bool,
        /// No progress output (default: a bar on a terminal, else one line per evaluation and a
        /// heartbeat line every minute).
        #[arg(long)]
        quiet: bool,
        /// Stop with a checkpoint once this many env steps are done (continue with --resume).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_count::<u64>)]
        stop_after: Option<u64>,
        /// The two task dimensions curriculum.png shows, across and up, e.g.
        /// `--plot-dims n_fields,distractors` (default: the first two the teacher can vary);
        /// with --resume of a finished run, redraws the plots.
        #[arg(long, value_name = "NAME,NAME", value_delimiter = ',')]
        plot_dims: Option<Vec<String>>,
        /// Exit when stdin reaches its end (the benchmark's workers: a run stops with the
        /// benchmark that started it).
        #[arg(long, hide = true)]
        exit_with_parent: bool,
    },
    /// QWeb's meta-trainer without an expert (web forms): trains INET on the
    /// instruction-generation env (or loads one with --inet), then the QWeb DQN on tasks made of
    /// an RRND goal and INET's instruction for it, never asking the oracle; evaluates on the test
    /// set's real forms. Reads a `train` config with env `webform`, student `dqn` and an optional
    /// [meta] section; writes config.toml, inet.json, inet_accuracy.csv, episodes.csv,
    /// evaluations.csv, checkpoint.json (until the run ends; --resume continues from it),
    /// qweb.json and summary.json to --out.
    MetaTrain {
        /// TOML run configuration (env `webform`, student `dqn`, optional [meta]); with
        /// --resume, the run's own config.toml by default.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Teacher choosing the forms' task vectors.
        #[arg(long)]
        teacher: Option<String>,
        /// MetaQWeb's budget in env steps.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        steps: Option<u64>,
        /// INET's budget in answers ([meta] inet_answers).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        inet_answers: Option<u64>,
        /// Seed of the run.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_count::<u64>)]
        seed: Option<u64>,
        /// Worker threads (0 = one per core); results do not depend on it.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_count::<usize>)]
        threads: Option<usize>,
        /// Evaluate on the test set every this many env steps.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        eval_every: Option<u64>,
        /// Test set CSV (default: the config's).
        #[arg(long)]
        test_set: Option<PathBuf>,
        /// A trained INET (inet.json of an earlier run) instead of training one.
        #[arg(long)]
        inet: Option<PathBuf>,
        /// Run directory.
        #[arg(long, default_value = "runs/meta")]
        out: PathBuf,
        /// Continue the run in --out from its checkpoint (written after every evaluation),
        /// exactly as if never stopped.
        #[arg(long)]
        resume: bool,
        /// Stop with a checkpoint once this many env steps are done (continue with --resume).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_count::<u64>)]
        stop_after: Option<u64>,
    },
    /// Run a benchmark: each spec (a built-in name or a TOML file) expands into runs over
    /// teachers × expert-knowledge levels × seeds, run --jobs at a time, each a `teachgym train`
    /// run directory under --out/<cell>/<teacher>[-<ek>]/seed<N>. Finished runs are skipped and
    /// interrupted ones resumed, so the command can be stopped and started again, or re-run with
    /// more --seeds.
    Benchmark {
        /// A built-in spec (`--list`) or a spec file; repeatable (one cell each).
        #[arg(long = "spec", value_name = "NAME|FILE")]
        specs: Vec<String>,
        /// List the built-in specs.
        #[arg(long)]
        list: bool,
        /// Benchmark directory.
        #[arg(long, default_value = "runs/benchmark")]
        out: PathBuf,
        /// Runs at a time, each a process with one thread (default: one per core).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<usize>)]
        jobs: Option<usize>,
        /// Seeds per teacher and level, overriding the specs' (seeds 0..N; a larger value than
        /// before extends the benchmark).
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        seeds: Option<u64>,
        /// Training budget of each run in env steps, overriding the specs'.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        budget: Option<u64>,
        /// Evaluation period in env steps, overriding the specs'.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_positive::<u64>)]
        eval_every: Option<u64>,
        /// Teachers, overriding the specs' (comma separated).
        #[arg(long, value_delimiter = ',')]
        teachers: Option<Vec<String>>,
        /// Expert-knowledge levels, overriding the specs' (comma separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_expert_level)]
        expert_knowledge: Option<Vec<ExpertLevel>>,
        /// Also write the report (`teachgym report`) when every run is finished.
        #[arg(long)]
        report: bool,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
        /// What runs the runs: `local` (a pool of child processes on this machine) or `ray`
        /// (Ray Tune, one trial per run, on a local or a remote Ray cluster; runs `python3 -m
        /// teachgym.ray_benchmark` with the same flags, another interpreter with
        /// `TEACHGYM_PYTHON`, and needs `pip install 'teachgym[ray]'`). Both give the same
        /// run directories, byte for byte.
        #[arg(long, value_enum, default_value_t = Engine::Local)]
        engine: Engine,
        /// The Ray cluster to join with `--engine ray` (`auto`, `ray://HOST:10001`, ...);
        /// default: start a local one.
        #[arg(long)]
        ray_address: Option<String>,
    },
    /// Report on a benchmark directory: per cell and teacher the final % of the test set
    /// mastered (mean ± SEM over seeds), the ratio to Random, Welch p-values against Random,
    /// TeachMyAgent's published ratio beside ours; curves, radar charts and curriculum
    /// snapshots as PNG, a Markdown summary and CSV files of every number (in --out).
    Report {
        /// The benchmark directory.
        dir: PathBuf,
        /// Where the report goes (default: DIR/report).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Meta-ACL classrooms for the AGAIN teacher.
    Classroom {
        #[command(subcommand)]
        action: ClassroomCommand,
    },
    /// Evaluate a run's checkpoint on a test set (JSON summary on stdout).
    Eval {
        /// A run's checkpoint.json.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Test set CSV (default: the run's test_set.csv).
        #[arg(long)]
        test_set: Option<PathBuf>,
        /// Worker threads (0 = one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Write a GIF of the greedy episode on one test task (frames captioned with the step,
        /// the return so far and the task).
        #[arg(long)]
        gif: Option<PathBuf>,
        /// Index of that test task.
        #[arg(long, default_value_t = 0)]
        gif_task: usize,
        /// Web forms with a QWeb student: replay the greedy policy on the test set in headless
        /// Chromium and report the success in the browser beside the simulator's. Runs
        /// `python3 -m teachgym.browser eval` (the Python package drives the browser; another
        /// interpreter with `TEACHGYM_PYTHON`), which needs the `teachgym` Python package,
        /// Chromium and chromedriver (Debian: `apt-get install chromium chromium-driver`).
        #[arg(long, conflicts_with_all = ["gif", "threads"])]
        browser: bool,
    },
    /// Statistics of a policy over many steps (falls, time-outs, deaths by water in Parkour,
    /// mean episode length, return and final x, and a digest of every observation and reward for
    /// comparing builds), as JSON.
    Stats {
        #[command(flatten)]
        env: EnvArgs,
        /// Policy: random or scripted.
        #[arg(long, default_value = "random")]
        policy: String,
        /// Steps to simulate.
        #[arg(long, default_value_t = 20_000)]
        steps: u64,
        /// First reset seed (episode i uses seed + i).
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ClassroomCommand {
    /// Assemble a classroom from finished ALP-GMM runs (their classroom_entry.json): a student
    /// enters if its ALP-GMM history has a Gaussian with mean ALP above --alp-threshold.
    Build {
        /// Run directories (or classroom_entry.json files).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// The classroom file to write.
        #[arg(long)]
        out: PathBuf,
        /// Keep every run, progress or not.
        #[arg(long)]
        keep_all: bool,
        /// Entry threshold on a Gaussian's mean ALP (in the runs' return units).
        #[arg(long, default_value_t = teachgym_teachers::again::DEFAULT_ENTRY_ALP_THRESHOLD)]
        alp_threshold: f64,
    },
}

/// Writes the report of benchmark directory `dir` beside it (`benchmark --report`) and says
/// where.
fn print_report(dir: &Path) -> Result<()> {
    let written = write_report(&ReportOptions {
        dir: dir.to_path_buf(),
        out: None,
    })?;
    println!("report: {}", written.markdown.display());
    Ok(())
}

/// The named walker policy for `env`: the scripted gait reads a bipedal's observation and acts
/// on its four motors, so it drives the bipedals only.
fn walker_policy(name: &str, seed: u64, env: &WalkerEnv) -> Result<Policy> {
    let policy = Policy::from_name(name, seed)
        .with_context(|| format!("unknown policy `{name}`; known: scripted, random"))?;
    let body = env.config().body;
    if matches!(policy, Policy::Scripted(_)) && !body.is_bipedal() {
        bail!(
            "the scripted gait drives the bipedals only, not `{}`; use --policy random",
            body.name()
        );
    }
    Ok(policy)
}

/// The command line, its help completed from the tables it refers to (env, body and teacher
/// names, every default of `train`), so that the help never restates a value.
fn command() -> clap::Command {
    let bodies = Embodiment::ALL.map(Embodiment::name).join(", ");
    let teachers = teachgym_teachers::TEACHER_NAMES.join(", ");
    let defaults = RunConfig::default();
    let trainer = &defaults.trainer;
    let walker_envs = teachgym_envs::WalkerConfig::ENV_NAMES.join(", ");
    let body_help = format!("Embodiment of the walker: {bodies}");
    let walker_only = |cmd: clap::Command| {
        cmd.mut_arg("env", |a| a.help(format!("Environment: {walker_envs}")))
            .mut_arg("body", |a| a.help(body_help.clone()))
    };
    Cli::command()
        .mut_subcommand("bench", walker_only)
        .mut_subcommand("stats", walker_only)
        .mut_subcommand("render", |cmd| {
            cmd.mut_arg("env", |a| {
                a.help(format!(
                    "Environment: {walker_envs}, or webform (--body and the physics options \
                     do not apply to it)"
                ))
            })
            .mut_arg("body", |a| a.help(body_help.clone()))
        })
        .mut_subcommand("train", |cmd| {
            let with_default = |cmd: clap::Command, name: &'static str, value: String| {
                cmd.mut_arg(name, |a| {
                    let help = a.get_help().map(ToString::to_string).unwrap_or_default();
                    a.help(format!("{help} [default: {value}]"))
                })
            };
            let cmd = cmd.mut_arg("teacher", |a| a.help(format!("Teacher: {teachers}")));
            let cmd = cmd.mut_arg("body", |a| {
                a.help(format!("Embodiment of a walker env: {bodies}"))
            });
            let cmd = with_default(cmd, "env", defaults.env.clone());
            let cmd = with_default(cmd, "teacher", defaults.teacher.clone());
            let cmd = with_default(
                cmd,
                "expert_knowledge",
                "high for adr, none for the others".into(),
            );
            let cmd = with_default(cmd, "student", defaults.student.name().into());
            let cmd = with_default(cmd, "steps", trainer.total_steps.to_string());
            let cmd = with_default(cmd, "seed", defaults.seed.to_string());
            let cmd = with_default(cmd, "body", Embodiment::default().name().into());
            let cmd = with_default(cmd, "threads", trainer.threads.to_string());
            let cmd = with_default(cmd, "num_envs", trainer.num_envs.to_string());
            with_default(cmd, "eval_every", trainer.eval_every.to_string())
        })
}

/// A whole number ≥ 0, with a message that says so (clap alone calls `-5` an unexpected
/// argument).
fn parse_count<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("expected a whole number ≥ 0, got `{text}`"))
}

/// A whole number ≥ 1.
fn parse_positive<T: std::str::FromStr + Default + PartialEq>(text: &str) -> Result<T, String> {
    match parse_count::<T>(text) {
        Ok(v) if v != T::default() => Ok(v),
        _ => Err(format!("expected a whole number ≥ 1, got `{text}`")),
    }
}

/// The engine of `teachgym benchmark`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Engine {
    /// A pool of child processes on this machine.
    Local,
    /// Ray Tune, through the Python package.
    Ray,
}

fn parse_expert_level(text: &str) -> Result<ExpertLevel, String> {
    text.parse().map_err(|_| {
        format!(
            "expected one of {}, got `{text}`",
            ExpertLevel::NAMES.join(", ")
        )
    })
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe panics; a command-line tool should
    // just stop, as `cat` does.
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `render --env webform`: one episode of the web-form env played by the oracle (`scripted`) or
/// by uniformly random valid actions (`random`); writes the form at reset as HTML and the
/// raster view as PNG (frame `png_step`, or the last) and/or GIF.
fn render_webform(
    args: &EnvArgs,
    seed: u64,
    policy: &str,
    png_step: u32,
    frame_every: u32,
    [png, gif, html]: [Option<PathBuf>; 3],
) -> Result<()> {
    use rand::{Rng, SeedableRng};
    use teachgym_envs::webform::{RENDER_HEIGHT, RENDER_WIDTH};
    if png.is_none() && gif.is_none() && html.is_none() {
        bail!("nothing to write: pass --html FILE, --png FILE and/or --gif FILE");
    }
    let oracle = match policy {
        "scripted" => true,
        "random" => false,
        other => bail!("unknown policy `{other}`; known: scripted (the oracle), random"),
    };
    // Any task of the whole space renders (`goal_coverage` opened, its default bounds are
    // [1, 1]); without --task, the centre of the default space.
    let mut env = WebFormEnv::new(WebFormConfig {
        task_low: vec![0.0; teachgym_envs::webform::TASK_DIMS],
        ..WebFormConfig::default()
    })?;
    let task = match &args.task {
        Some(task) => task.clone(),
        None => WebFormConfig::default().bounded_task_space()?.center(),
    };
    let (_, info) = env.reset(Some(seed), &task)?;
    if let Some(path) = &html {
        std::fs::write(path, env.html()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let mut gif_writer = match &gif {
        Some(path) => Some(GifWriter::create(
            path,
            RENDER_WIDTH,
            RENDER_HEIGHT,
            2.0 / frame_every.max(1) as f32,
        )?),
        None => None,
    };
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut png_frame = Some(env.render()?);
    let mut step = 0u32;
    let last = loop {
        if let Some(w) = gif_writer.as_mut() {
            if step % frame_every.max(1) == 0 {
                w.push(&env.render()?)?;
            }
        }
        let action = if oracle {
            env.oracle_action()?
        } else {
            let mask = env.action_mask()?;
            let valid: Vec<usize> = (0..mask.len()).filter(|&a| mask[a] == 1).collect();
            valid[rng.random_range(0..valid.len())]
        };
        let result = env.step(&action)?;
        step += 1;
        if step <= png_step {
            png_frame = Some(env.render()?);
        }
        if result.terminated || result.truncated {
            break result;
        }
    };
    if let (Some(path), Some(frame)) = (&png, &png_frame) {
        write_png(frame, path)?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &gif {
        drop(gif_writer);
        println!("wrote {}", path.display());
    }
    println!(
        "episode: fields {}, pages {}, optimal steps {}, length {}, success {}",
        info.get("n_fields").unwrap_or(0.0),
        info.get("n_pages").unwrap_or(0.0),
        info.get("optimal_steps").unwrap_or(0.0),
        step,
        last.info.get("success") == Some(1.0)
    );
    Ok(())
}

/// `NAME=LOW,HIGH` as the registry's bound option.
fn parse_bound(text: &str) -> Result<(String, serde_json::Value)> {
    let usage = || format!("--bound {text}: expected NAME=LOW,HIGH, e.g. stump_height=0,1.5");
    let (name, pair) = text.split_once('=').with_context(usage)?;
    let (low, high) = pair.split_once(',').with_context(usage)?;
    let number = |v: &str| v.trim().parse::<f64>().with_context(usage);
    Ok((
        name.trim().to_string(),
        serde_json::json!([number(low)?, number(high)?]),
    ))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Render {
            env: env_args,
            seed,
            policy,
            png,
            png_step,
            gif,
            frame_every,
            html,
        } => {
            if env_args.env == "webform" {
                return render_webform(
                    &env_args,
                    seed,
                    &policy,
                    png_step,
                    frame_every,
                    [png, gif, html],
                );
            }
            if html.is_some() {
                bail!("--html is only for --env webform");
            }
            if png.is_none() && gif.is_none() {
                bail!("nothing to write: pass --png FILE and/or --gif FILE");
            }
            let mut env = env_args.build()?;
            let task = env_args.task(&env, |e| e.task_space().center())?;
            let mut policy = walker_policy(&policy, seed, &env)?;
            let mut gif_writer = match &gif {
                Some(path) => Some(GifWriter::create(
                    path,
                    teachgym_envs::walker::FRAME_WIDTH,
                    teachgym_envs::walker::FRAME_HEIGHT,
                    50.0 / frame_every.max(1) as f32,
                )?),
                None => None,
            };
            let mut step = 0u32;
            let mut png_frame = None;
            let mut failure = None;
            let end = run_episode(&mut env, &task, Some(seed), &mut policy, |e| {
                if failure.is_some() {
                    return;
                }
                let wants_gif = gif_writer.is_some() && step % frame_every.max(1) == 0;
                let wants_png = png.is_some() && (step <= png_step);
                if wants_gif || wants_png {
                    match e.render() {
                        Ok(mut frame) => {
                            let (t, r) = (e.elapsed_steps(), e.episode_return());
                            caption(&mut frame, t, r, e.task_space(), &task);
                            if wants_gif {
                                if let Some(w) = gif_writer.as_mut() {
                                    if let Err(err) = w.push(&frame) {
                                        failure = Some(err);
                                    }
                                }
                            }
                            if wants_png {
                                png_frame = Some(frame);
                            }
                        }
                        Err(err) => failure = Some(err.into()),
                    }
                }
                step += 1;
            })?;
            if let Some(err) = failure {
                return Err(err);
            }
            if let (Some(path), Some(frame)) = (&png, &png_frame) {
                write_png(frame, path)?;
                println!("wrote {}", path.display());
            }
            if let Some(path) = &gif {
                drop(gif_writer);
                println!("wrote {}", path.display());
            }
            println!(
                "episode: return {:.1}, length {}, success {}, fell {}, final x {:.1} m",
                end.summary.episode_return,
                end.summary.length,
                end.summary.success,
                end.fell,
                end.final_x
            );
        }
        Command::Bench {
            env: env_args,
            steps,
            resets,
            repeat,
        } => {
            let mut env = env_args.build()?;
            let task = env_args.task(&env, |e| e.task_space().center())?;
            let mut rates = Vec::new();
            let mut reset_us = Vec::new();
            for _ in 0..repeat.max(1) {
                let t = measure_throughput(&mut env, &task, steps, resets)?;
                println!(
                    "{{\"steps_per_second\": {:.0}, \"reset_us\": {:.1}, \"episodes\": {}}}",
                    t.steps_per_second, t.reset_micros, t.episodes
                );
                rates.push(t.steps_per_second);
                reset_us.push(t.reset_micros);
            }
            rates.sort_by(f64::total_cmp);
            reset_us.sort_by(f64::total_cmp);
            println!(
                "{{\"env\": \"{}\", \"body\": \"{}\", \"task\": {:?}, \"steps_per_second_min\": {:.0}, \"steps_per_second_median\": {:.0}, \"reset_us_median\": {:.1}}}",
                env_args.env,
                env_args.body,
                task,
                rates[0],
                rates[rates.len() / 2],
                reset_us[reset_us.len() / 2]
            );
        }
        Command::Envs => {
            for e in teachgym_envs::registry::ENVS {
                let section = format!("[{}]", e.config_section);
                println!(
                    "{:<16} teachgym/{:<18} {section:<13} {}",
                    e.name, e.gym_id, e.summary
                );
            }
        }
        Command::Teachers { name } => {
            let names: Vec<&str> = match &name {
                Some(n) => vec![n.as_str()],
                None => teachgym_teachers::TEACHER_NAMES.to_vec(),
            };
            for n in names {
                let config =
                    teachgym_teachers::TeacherConfig::from_json(n, serde_json::Value::Null)?;
                println!("{}", serde_json::to_string(&config)?);
            }
        }
        Command::Train {
            env,
            teacher,
            expert_knowledge,
            shuffle_dimensions,
            student,
            steps,
            seed,
            body,
            bounds,
            max_episode_steps,
            threads,
            num_envs,
            eval_every,
            test_set,
            config,
            classroom,
            out,
            resume,
            quiet,
            stop_after,
            plot_dims,
            exit_with_parent,
        } => {
            if exit_with_parent {
                std::thread::spawn(|| {
                    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                    // The run continues from its last checkpoint when resumed.
                    std::process::exit(130);
                });
            }
            let mut run = match (&config, resume) {
                (Some(path), _) => RunConfig::from_toml_file(path)?,
                // Resuming without --config: the run's own configuration.
                (None, true) => RunConfig::from_toml_file(&out.join("config.toml"))?,
                (None, false) => RunConfig::default(),
            };
            if let Some(v) = env {
                run.env = v;
            }
            if let Some(v) = teacher {
                run.teacher = v;
            }
            if let Some(v) = expert_knowledge {
                run.expert_knowledge = Some(v);
            }
            if shuffle_dimensions {
                run.shuffle_dimensions = true;
            }
            if let Some(v) = student {
                run.student = v.parse()?;
            }
            if let Some(v) = seed {
                run.seed = v;
            }
            if let Some(v) = steps {
                run.trainer.total_steps = v;
            }
            if let Some(v) = threads {
                run.trainer.threads = v;
            }
            if let Some(v) = num_envs {
                run.trainer.num_envs = v;
            }
            if let Some(v) = eval_every {
                run.trainer.eval_every = v;
            }
            if let Some(v) = test_set {
                run.test_set = Some(v);
            }
            if let Some(v) = plot_dims {
                run.plot.dims = v;
            }
            if let Some(path) = classroom {
                let path = std::path::absolute(&path).unwrap_or(path);
                let mut section = run.teacher_config.take().unwrap_or_default();
                if !section.is_object() {
                    section = serde_json::json!({});
                }
                section["classroom"] = serde_json::to_value(&path)?;
                run.teacher_config = Some(section);
            }
            run.env_options.body = body;
            run.env_options.max_episode_steps = max_episode_steps;
            for bound in &bounds {
                let (name, pair) = parse_bound(bound)?;
                run.env_options.bounds.insert(name, pair);
            }
            let started = std::time::Instant::now();
            let summary = train(TrainOptions {
                config: run,
                out: out.clone(),
                resume,
                progress: !quiet,
                stop_after,
            })?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "trained {} env steps ({} episodes) in {secs:.1} s",
                HumanCount(summary.global_step),
                HumanCount(summary.episodes)
            );
            if let Some(e) = &summary.final_evaluation {
                let which = if summary.finished && e.global_step == summary.global_step {
                    "final evaluation".to_string()
                } else {
                    format!("last evaluation (at step {})", HumanCount(e.global_step))
                };
                println!(
                    "{which}: {:.1}% of {} test tasks mastered, mean test return {:.2}",
                    e.mastered_percent,
                    e.returns.len(),
                    e.mean_return
                );
            }
            if !summary.finished {
                println!("the run is not finished; continue it with --resume");
            }
            println!("run directory: {}", out.display());
            for path in &summary.artefacts {
                println!("  {}", path.display());
            }
        }
        Command::MetaTrain {
            config,
            teacher,
            steps,
            inet_answers,
            seed,
            threads,
            eval_every,
            test_set,
            inet,
            out,
            resume,
            stop_after,
        } => {
            let mut run = match (&config, resume) {
                (Some(path), _) => RunConfig::from_toml_file(path)?,
                (None, true) => RunConfig::from_toml_file(&out.join("config.toml"))?,
                (None, false) => bail!(
                    "meta-train needs --config (a run configuration with env `webform` and \
                     student `dqn`), or --resume to continue the run in --out"
                ),
            };
            if let Some(v) = teacher {
                run.teacher = v;
            }
            if let Some(v) = steps {
                run.trainer.total_steps = v;
            }
            if let Some(v) = seed {
                run.seed = v;
            }
            if let Some(v) = threads {
                run.trainer.threads = v;
            }
            if let Some(v) = eval_every {
                run.trainer.eval_every = v;
            }
            if let Some(v) = test_set {
                run.test_set = Some(v);
            }
            if let Some(v) = inet_answers {
                run.meta.get_or_insert_with(Default::default).inet_answers = v;
            }
            let summary = meta_train(&MetaTrainOptions {
                config: run,
                out,
                inet,
                resume,
                stop_after,
            })?;
            match (
                summary.final_mastered_percent,
                summary.best_mastered_percent,
            ) {
                (Some(last), Some(best)) => println!(
                    "MetaQWeb: {last:.1} % of the test set mastered after {} env steps (best \
                     {best:.1} %)",
                    summary.steps
                ),
                _ => println!("MetaQWeb: {} env steps, no evaluation yet", summary.steps),
            }
            if !summary.finished {
                println!("the run is not finished; continue it with --resume");
            }
        }
        Command::Benchmark {
            specs,
            list,
            out,
            jobs,
            seeds,
            budget,
            eval_every,
            teachers,
            expert_knowledge,
            report,
            quiet,
            engine,
            ray_address,
        } => {
            if list {
                for (name, text) in BUILT_IN_SPECS {
                    let spec = BenchmarkSpec::from_toml_str(text, name)?;
                    println!("{name:<20} {}", spec.description);
                }
                return Ok(());
            }
            let loaded = load_specs(
                &specs,
                &SpecOverrides {
                    seeds,
                    budget,
                    eval_every,
                    teachers: teachers.clone(),
                    expert_knowledge: expert_knowledge.clone(),
                },
            )?;
            if ray_address.is_some() && engine != Engine::Ray {
                bail!("--ray-address needs --engine ray");
            }
            if engine == Engine::Ray {
                let mut args: Vec<String> = vec!["--out".into(), out.display().to_string()];
                for spec in &specs {
                    args.extend(["--spec".into(), spec.clone()]);
                }
                let numbers = [
                    ("--jobs", jobs.map(|v| v as u64)),
                    ("--seeds", seeds),
                    ("--budget", budget),
                    ("--eval-every", eval_every),
                ];
                for (flag, value) in numbers {
                    if let Some(v) = value {
                        args.extend([flag.into(), v.to_string()]);
                    }
                }
                if let Some(v) = &teachers {
                    args.extend(["--teachers".into(), v.join(",")]);
                }
                if let Some(v) = &expert_knowledge {
                    let names: Vec<&str> = v.iter().map(|l| l.name()).collect();
                    args.extend(["--expert-knowledge".into(), names.join(",")]);
                }
                if let Some(address) = &ray_address {
                    args.extend(["--ray-address".into(), address.clone()]);
                }
                if quiet {
                    args.push("--quiet".into());
                }
                run_ray_engine(&args)?;
                if report {
                    print_report(&out)?;
                }
                return Ok(());
            }
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            let summary = run_benchmark(&BenchmarkOptions {
                specs: loaded,
                out: out.clone(),
                jobs: jobs.unwrap_or(cores),
                exe: std::env::current_exe().context("cannot find the teachgym binary")?,
                progress: !quiet,
            })?;
            println!(
                "{} runs: {} finished before, {} run now ({} resumed); benchmark directory: {}",
                summary.total,
                summary.skipped,
                summary.finished,
                summary.resumed,
                out.display()
            );
            if report {
                print_report(&out)?;
            }
        }
        Command::Report { dir, out } => {
            let written = write_report(&ReportOptions { dir, out })?;
            for note in &written.notes {
                eprintln!("note: {note}");
            }
            println!("report: {}", written.markdown.display());
            for path in &written.files {
                println!("  {}", path.display());
            }
        }
        Command::Classroom {
            action:
                ClassroomCommand::Build {
                    runs,
                    out,
                    keep_all,
                    alp_threshold,
                },
        } => {
            let rule = teachgym_teachers::EntryRule {
                alp_threshold,
                keep_all,
            };
            let summary = teachgym::train::build_classroom(&runs, &out, rule)?;
            println!(
                "classroom of {} students written to {}",
                summary.entered.len(),
                out.display()
            );
            if !summary.left_out.is_empty() {
                println!(
                    "left out (no Gaussian with mean ALP above {alp_threshold}): {}",
                    summary.left_out.join(", ")
                );
            }
        }
        Command::Eval {
            checkpoint,
            test_set,
            browser: true,
            ..
        } => eval_in_browser(&checkpoint, test_set.as_deref())?,
        Command::Eval {
            checkpoint,
            test_set,
            threads,
            gif,
            gif_task,
            browser: false,
        } => {
            let e = eval(&EvalOptions {
                checkpoint,
                test_set,
                threads,
                gif: gif.clone(),
                gif_task,
            })?;
            println!(
                "{{\"global_step\": {}, \"test_tasks\": {}, \"mastered_percent\": {:.2}, \"mean_return\": {:.3}}}",
                e.global_step,
                e.returns.len(),
                e.mastered_percent,
                e.mean_return
            );
            if let Some(path) = gif {
                eprintln!("wrote {}", path.display());
            }
        }
        Command::Stats {
            env: env_args,
            policy,
            steps,
            seed,
        } => {
            let mut env = env_args.build()?;
            let task = env_args.task(&env, |e| e.task_space().low())?;
            let mut policy = walker_policy(&policy, seed, &env)?;
            let s = policy_stats(&mut env, &task, seed, steps, &mut policy)?;
            println!(
                "{{\"steps\": {}, \"episodes\": {}, \"falls\": {}, \"timeouts\": {}, \"deaths\": {}, \"mean_length\": {:.1}, \"mean_return\": {:.2}, \"mean_final_x\": {:.2}, \"trajectory_digest\": \"{:016x}\"}}",
                s.steps,
                s.episodes,
                s.falls,
                s.timeouts,
                s.deaths,
                s.mean_length,
                s.mean_return,
                s.mean_final_x,
                s.trajectory_digest
            );
        }
    }
    Ok(())
}

/// The interpreter that runs the Python package's modules: `TEACHGYM_PYTHON`, else `python3`.
fn python_interpreter() -> String {
    std::env::var("TEACHGYM_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Checks that the interpreter can import `module`, with an error saying how to get it.
fn check_python_module(python: &str, module: &str, what: &str, install: &str) -> Result<()> {
    use std::process::{Command, Stdio};
    let importable = Command::new(python)
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !importable {
        bail!(
            "{what} runs `{python} -m {module}`, but `{python}` cannot import {module}: install \
             {install} or set TEACHGYM_PYTHON to an interpreter that has it"
        );
    }
    Ok(())
}

/// `teachgym benchmark --engine ray`: the Python package's Ray Tune engine
/// (`python -m teachgym.ray_benchmark`) with the same flags.
fn run_ray_engine(args: &[String]) -> Result<()> {
    let (python, module, what) = (
        python_interpreter(),
        "teachgym.ray_benchmark",
        "the Ray engine",
    );
    check_python_module(
        &python,
        module,
        what,
        "the teachgym Python package (pip install './python[ray]')",
    )?;
    check_python_module(
        &python,
        "ray.tune",
        what,
        "Ray Tune (pip install './python[ray]')",
    )?;
    let status = std::process::Command::new(&python)
        .args(["-m", module])
        .args(args)
        .status()
        .with_context(|| format!("cannot run `{python}`"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// `teachgym eval --browser`: the browser evaluation of the Python package
/// (`python -m teachgym.browser eval`), which prints the JSON summary; an error unless it ran
/// and the browser agreed with the simulator.
fn eval_in_browser(checkpoint: &std::path::Path, test_set: Option<&std::path::Path>) -> Result<()> {
    let python = python_interpreter();
    check_python_module(
        &python,
        "teachgym.browser",
        "the browser evaluation",
        "the teachgym Python package (pip install ./python)",
    )?;
    let mut command = std::process::Command::new(&python);
    command
        .args(["-m", "teachgym.browser", "eval"])
        .arg(checkpoint);
    if let Some(path) = test_set {
        command.arg("--test-set").arg(path);
    }
    let status = command
        .status()
        .with_context(|| format!("cannot run `{python}`"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(1) => bail!("the browser and the simulator disagree (see the summary above)"),
        _ => bail!("the browser evaluation failed ({status})"),
    }
}
