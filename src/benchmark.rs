//! `teachgym benchmark`: a benchmark spec (TOML) expands into training runs, which a pool of
//! worker processes runs on the local cores.
//!
//! A spec describes one *cell* of a benchmark, e.g. one of TeachMyAgent's challenges: the base
//! run configuration (the `teachgym train --config` format, in its `[run]` table), the teachers,
//! the expert-knowledge levels, the budget, the evaluation period and the number of seeds, and
//! optionally several student *variants* whose runs the cell merges (the "variety of students"
//! challenge). Every run is a normal `teachgym train` run directory:
//!
//! ```text
//! BENCH_DIR/<cell>/spec.toml                      the spec that made the cell
//! BENCH_DIR/<cell>/<teacher>[-<ek>]/seed<N>/      one run (config.toml, evaluations.csv, ...)
//! BENCH_DIR/<cell>/<teacher>[-<ek>]/<variant>-seed<N>/   with variants
//! ```
//!
//! The `-<ek>` suffix names the expert-knowledge level of the teachers that read one (a teacher
//! that reads none has one directory whatever the levels asked). A run is finished when its
//! `summary.json` exists ([`crate::train::SUMMARY_FILE_NAME`]).
//!
//! The pool runs each run as a child process of the same binary (`teachgym train --config
//! RUN/config.toml --out RUN --quiet`, `--resume` when the run has a checkpoint), one run per
//! worker with one thread inside. Child processes make killing safe: each child watches its
//! stdin, a pipe from the benchmark, and exits when the benchmark dies, however it dies; a
//! killed run resumes from its last checkpoint, exactly as if never stopped. So `teachgym
//! benchmark` can be stopped at any moment and started again: finished runs are skipped,
//! interrupted ones resumed, and a larger `--seeds` extends every cell.
//!
//! A run's result depends only on its configuration, never on the pool size, the order in
//! which runs finish or which machine ran it: runs share nothing, and the trainer's results do
//! not depend on its thread count.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use teachgym_teachers::{build_teacher, ExpertLevel, TeacherConfig, TEACHER_NAMES};

use crate::train::{describe_difference, human_duration, RunConfig, RunSummary};

/// The name of the spec file a cell's directory holds.
pub const CELL_SPEC_FILE: &str = "spec.toml";

/// One of TeachMyAgent's Stump Tracks challenges (its radar's axes), its Parkour benchmark, or
/// none: the label of a cell, used by the report to place TeachMyAgent's published ratios beside
/// ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    /// No challenge: the env's default task space.
    None,
    /// Mostly unfeasible task space (`stump_height` ∈ [0, 9]).
    MostlyUnfeasible,
    /// Mostly trivial task space (`stump_height` ∈ [−3, 3]).
    MostlyTrivial,
    /// Forgetting student (weights and replay buffer reset periodically).
    ForgettingStudent,
    /// Rugged difficulty (the dimension shuffler).
    RuggedDifficulty,
    /// Variety of students (bodies × students, merged).
    VarietyOfStudents,
    /// Parkour: a walker, the fish and a climber, merged (TeachMyAgent's second benchmark).
    Parkour,
}

impl Challenge {
    /// Every label: none, the Stump Tracks challenges in the order of TeachMyAgent's radar,
    /// then Parkour.
    pub const ALL: [Challenge; 7] = [
        Challenge::None,
        Challenge::MostlyUnfeasible,
        Challenge::MostlyTrivial,
        Challenge::ForgettingStudent,
        Challenge::RuggedDifficulty,
        Challenge::VarietyOfStudents,
        Challenge::Parkour,
    ];

    /// The name in specs.
    pub fn name(self) -> &'static str {
        match self {
            Challenge::None => "none",
            Challenge::MostlyUnfeasible => "mostly_unfeasible",
            Challenge::MostlyTrivial => "mostly_trivial",
            Challenge::ForgettingStudent => "forgetting_student",
            Challenge::RuggedDifficulty => "rugged_difficulty",
            Challenge::VarietyOfStudents => "variety_of_students",
            Challenge::Parkour => "parkour",
        }
    }
}

/// A student variant of a cell: its runs are merged with the other variants' in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Name, a prefix of the run directories (`<name>-seed<N>`).
    pub name: String,
    /// Embodiment (walkers), overriding the spec's `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Run-configuration fields merged over the spec's `[run]` table (tables merge key by key),
    /// e.g. `student = "ppo"` and `[variants.run.ppo] preset = "teach_my_agent"`.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub run: toml::Table,
}

/// A benchmark spec: one cell, expanded into teachers × expert-knowledge levels × variants ×
/// seeds runs. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkSpec {
    /// The cell's directory name under the benchmark directory (letters, digits, `_`, `-`).
    pub name: String,
    /// What the cell measures, one line (shown by `--list` and in the report).
    #[serde(default)]
    pub description: String,
    /// TeachMyAgent's challenge this cell reproduces, if any (the report's radar axis and its
    /// published ratios). Default: none.
    #[serde(default = "default_challenge")]
    pub challenge: Challenge,
    /// Teachers, by registry name; `random` should be among them (the report's reference).
    pub teachers: Vec<String>,
    /// Expert-knowledge levels each teacher that reads expert knowledge runs at; a level a
    /// teacher cannot run at (ADR without knowledge) is skipped with a note. Default: `["none"]`.
    #[serde(default = "default_levels")]
    pub expert_knowledge: Vec<ExpertLevel>,
    /// Seeds per teacher, level and variant: seeds `0..seeds`. `--seeds` overrides it; a larger
    /// value extends a benchmark, re-using every finished run.
    pub seeds: u64,
    /// Training budget of each run, in env steps.
    pub budget: u64,
    /// Evaluation period, in env steps.
    pub eval_every: u64,
    /// Embodiment (walkers), as `teachgym train --body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Task-space bounds `{dimension = [low, high]}`, as `teachgym train --bound`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bounds: BTreeMap<String, [f64; 2]>,
    /// The run configuration every run starts from (the `teachgym train --config` format,
    /// e.g. `env`, `student`, `shuffle_dimensions`, `[run.sac]`, `[run.trainer]`); `teacher`,
    /// `seed`, `expert_knowledge`, `trainer.total_steps` and `trainer.eval_every` come from the
    /// spec's own fields instead.
    #[serde(default)]
    pub run: toml::Table,
    /// Student variants merged in the cell; none = one implicit variant, the `[run]` table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
}

fn default_challenge() -> Challenge {
    Challenge::None
}

fn default_levels() -> Vec<ExpertLevel> {
    vec![ExpertLevel::None]
}

/// The built-in specs: TeachMyAgent's protocol on Stump Tracks (SAC as TeachMyAgent ran it,
/// old_classic_bipedal, 20 M steps, an evaluation every 500 k steps, 16 seeds), one cell per
/// challenge, plus the challenge-free cell; and its Parkour benchmark (three bodies merged).
pub const BUILT_IN_SPECS: [(&str, &str); 7] = [
    (
        "no_challenge",
        include_str!("../examples/benchmarks/no_challenge.toml"),
    ),
    (
        "mostly_unfeasible",
        include_str!("../examples/benchmarks/mostly_unfeasible.toml"),
    ),
    (
        "mostly_trivial",
        include_str!("../examples/benchmarks/mostly_trivial.toml"),
    ),
    (
        "forgetting_student",
        include_str!("../examples/benchmarks/forgetting_student.toml"),
    ),
    (
        "rugged_difficulty",
        include_str!("../examples/benchmarks/rugged_difficulty.toml"),
    ),
    (
        "variety_of_students",
        include_str!("../examples/benchmarks/variety_of_students.toml"),
    ),
    (
        "parkour",
        include_str!("../examples/benchmarks/parkour.toml"),
    ),
];

impl BenchmarkSpec {
    /// Parses and checks a spec from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// Malformed TOML, an unknown or mistyped field (the message names it), and the checks of
    /// [`BenchmarkSpec::validate`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        let spec: BenchmarkSpec =
            toml::from_str(text).with_context(|| format!("malformed benchmark spec {origin}"))?;
        spec.validate()
            .with_context(|| format!("invalid benchmark spec {origin}"))?;
        Ok(spec)
    }

    /// A built-in spec by name, or a spec file by path.
    ///
    /// # Errors
    /// Neither a built-in name nor a readable file, and the errors of
    /// [`BenchmarkSpec::from_toml_str`].
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some((_, text)) = BUILT_IN_SPECS.iter().find(|(n, _)| *n == name_or_path) {
            return Self::from_toml_str(text, &format!("`{name_or_path}` (built in)"));
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            bail!(
                "no benchmark spec `{name_or_path}`: neither a file nor a built-in spec ({})",
                BUILT_IN_SPECS.map(|(n, _)| n).join(", ")
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read benchmark spec {}", path.display()))?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks the fields that serde cannot: names, counts, and the run fields the spec sets
    /// itself.
    ///
    /// # Errors
    /// The first bad field, named.
    pub fn validate(&self) -> Result<()> {
        check_dir_name("name", &self.name)?;
        if self.teachers.is_empty() {
            bail!("teachers: give at least one teacher");
        }
        for (i, teacher) in self.teachers.iter().enumerate() {
            if !TEACHER_NAMES.contains(&teacher.as_str()) {
                bail!(
                    "teachers: unknown teacher `{teacher}`; known: {}",
                    TEACHER_NAMES.join(", ")
                );
            }
            if self.teachers[..i].contains(teacher) {
                bail!("teachers: `{teacher}` is listed twice");
            }
        }
        if self.expert_knowledge.is_empty() {
            bail!("expert_knowledge: give at least one level (none, low, high)");
        }
        if self.seeds == 0 {
            bail!("seeds: must be ≥ 1");
        }
        if self.budget == 0 {
            bail!("budget: must be ≥ 1 env step");
        }
        if self.eval_every == 0 {
            bail!("eval_every: must be ≥ 1 env step");
        }
        let own = [
            ("teacher", "teachers"),
            ("seed", "seeds"),
            ("expert_knowledge", "expert_knowledge"),
        ];
        let tables = std::iter::once(("run", &self.run)).chain(
            self.variants
                .iter()
                .map(|v| ("variants.run", &v.run))
                .collect::<Vec<_>>(),
        );
        for (where_, table) in tables {
            for (key, field) in own {
                if table.contains_key(key) {
                    bail!("{where_}.{key}: set the spec's `{field}` instead");
                }
            }
            if let Some(trainer) = table.get("trainer").and_then(|t| t.as_table()) {
                for (key, field) in [("total_steps", "budget"), ("eval_every", "eval_every")] {
                    if trainer.contains_key(key) {
                        bail!("{where_}.trainer.{key}: set the spec's `{field}` instead");
                    }
                }
            }
        }
        for (i, v) in self.variants.iter().enumerate() {
            check_dir_name("variants.name", &v.name)?;
            if self.variants[..i].iter().any(|w| w.name == v.name) {
                bail!("variants.name: `{}` is listed twice", v.name);
            }
        }
        Ok(())
    }

    /// The spec as TOML (what a cell's `spec.toml` holds).
    ///
    /// # Errors
    /// Values TOML cannot hold.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string(self)?)
    }

    /// Expands the spec into its runs, each with its resolved configuration, in a fixed order:
    /// seed by seed (so that early results cover every teacher), then variant, teacher and
    /// level. Also returns notes on skipped combinations.
    ///
    /// # Errors
    /// A configuration that does not resolve at any level of a teacher (the message names the
    /// teacher, the variant and the reason).
    pub fn expand(&self) -> Result<Expansion> {
        let implicit = [Variant {
            name: String::new(),
            body: None,
            run: toml::Table::new(),
        }];
        let variants: &[Variant] = if self.variants.is_empty() {
            &implicit
        } else {
            &self.variants
        };
        let mut groups = Vec::new();
        let mut notes = Vec::new();
        for variant in variants {
            let mut table = self.run.clone();
            merge_tables(&mut table, &variant.run);
            let base: RunConfig = toml::Value::Table(table).try_into().with_context(|| {
                if variant.name.is_empty() {
                    "invalid [run] table".to_string()
                } else {
                    format!("invalid run table of variant `{}`", variant.name)
                }
            })?;
            for teacher in &self.teachers {
                let reads_knowledge = TeacherConfig::from_json(teacher, serde_json::Value::Null)?
                    .expert_knowledge_mut()
                    .is_some();
                let levels: Vec<Option<ExpertLevel>> = if reads_knowledge {
                    self.expert_knowledge.iter().copied().map(Some).collect()
                } else {
                    vec![None]
                };
                let mut errors = Vec::new();
                let before = groups.len();
                for level in levels {
                    let mut config = base.clone();
                    config.teacher = teacher.clone();
                    config.expert_knowledge = level;
                    config.trainer.total_steps = self.budget;
                    config.trainer.eval_every = self.eval_every;
                    // One thread per run: the pool gives each run one core.
                    config.trainer.threads = 1;
                    config.env_options.body = variant.body.clone().or(self.body.clone());
                    for (dim, [low, high]) in &self.bounds {
                        config
                            .env_options
                            .bounds
                            .insert(dim.clone(), serde_json::json!([low, high]));
                    }
                    let group = match level {
                        Some(level) => format!("{teacher}-{level}"),
                        None => teacher.clone(),
                    };
                    match config.resolve().and_then(|config| {
                        // Some teachers refuse to run without knowledge only when built (ADR
                        // without thresholds, GoalGAN without a success threshold); building
                        // may be slow (GoalGAN pretrains), so only that level is tried.
                        if level != Some(ExpertLevel::None) {
                            return Ok(config);
                        }
                        build_teacher(
                            &config.teacher,
                            config.task_space()?,
                            0,
                            config.teacher_config.clone().unwrap_or_default(),
                        )?;
                        Ok(config)
                    }) {
                        Ok(config) => groups.push((group, variant.name.clone(), config)),
                        Err(e) => errors.push((group, format!("{e:#}"))),
                    }
                }
                let variant_text = if variant.name.is_empty() {
                    String::new()
                } else {
                    format!(" (variant `{}`)", variant.name)
                };
                if groups.len() == before {
                    let (_, reason) = &errors[0];
                    bail!("teacher `{teacher}`{variant_text} cannot run: {reason}");
                }
                for (group, reason) in errors {
                    notes.push(format!("{group}{variant_text} skipped: {reason}"));
                }
            }
        }
        let mut runs = Vec::new();
        for seed in 0..self.seeds {
            for (group, variant, config) in &groups {
                let leaf = if variant.is_empty() {
                    format!("seed{seed}")
                } else {
                    format!("{variant}-seed{seed}")
                };
                let mut config = config.clone();
                config.seed = seed;
                runs.push(RunSpec {
                    dir: PathBuf::from(&self.name).join(group).join(leaf),
                    config,
                });
            }
        }
        Ok(Expansion { runs, notes })
    }
}

/// A checked directory name: letters, digits, `_`, `-`, `.`; not empty, not `.`/`..`.
fn check_dir_name(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        bail!("{field}: `{name}` is not a plain directory name (letters, digits, `_`, `-`, `.`)");
    }
    Ok(())
}

/// Merges `over` into `base`: tables key by key, any other value replaced.
fn merge_tables(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// What a spec expands into.
#[derive(Debug, Clone)]
pub struct Expansion {
    /// The runs, in the order the pool starts them.
    pub runs: Vec<RunSpec>,
    /// Combinations skipped, one line each (ADR without expert knowledge, ...).
    pub notes: Vec<String>,
}

/// One run of a benchmark.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Its directory, relative to the benchmark directory.
    pub dir: PathBuf,
    /// Its resolved configuration.
    pub config: RunConfig,
}

/// How to run `teachgym benchmark`.
#[derive(Debug, Clone)]
pub struct BenchmarkOptions {
    /// The cells.
    pub specs: Vec<BenchmarkSpec>,
    /// The benchmark directory.
    pub out: PathBuf,
    /// Runs at a time (worker processes).
    pub jobs: usize,
    /// The `teachgym` binary the workers run (`std::env::current_exe()` from the command line).
    pub exe: PathBuf,
    /// Report progress on stderr.
    pub progress: bool,
}

/// What a benchmark did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchmarkSummary {
    /// Runs of the specs.
    pub total: usize,
    /// Runs already finished when the command started (skipped).
    pub skipped: usize,
    /// Runs finished by this command.
    pub finished: usize,
    /// Of those, runs continued from a checkpoint.
    pub resumed: usize,
}

/// The state of a run directory before an engine (the local pool, Ray) starts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// `summary.json` exists: the run is skipped.
    Finished,
    /// A checkpoint of this run's configuration exists: the run resumes from it.
    Checkpointed,
    /// Nothing to keep: the run starts from the beginning.
    Fresh,
}

impl RunState {
    /// `finished`, `checkpointed` or `fresh`.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Finished => "finished",
            RunState::Checkpointed => "checkpointed",
            RunState::Fresh => "fresh",
        }
    }
}

/// The command line's overrides of every spec's fields (`--seeds`, `--budget`, ...), shared by
/// the local pool and the Ray engine so both expand a spec into the same runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpecOverrides {
    /// Seeds per teacher, level and variant.
    pub seeds: Option<u64>,
    /// Training budget of each run (env steps).
    pub budget: Option<u64>,
    /// Evaluation period (env steps).
    pub eval_every: Option<u64>,
    /// Teachers.
    pub teachers: Option<Vec<String>>,
    /// Expert-knowledge levels.
    pub expert_knowledge: Option<Vec<ExpertLevel>>,
}

/// Loads each spec (a built-in name or a file) and applies the overrides.
///
/// # Errors
/// A spec that does not load, or that the overrides make invalid (named).
pub fn load_specs(names: &[String], overrides: &SpecOverrides) -> Result<Vec<BenchmarkSpec>> {
    if names.is_empty() {
        bail!(
            "no spec: pass --spec NAME (built in: {}) or --spec FILE",
            BUILT_IN_SPECS.map(|(n, _)| n).join(", ")
        );
    }
    let mut loaded = Vec::new();
    for name in names {
        let mut spec = BenchmarkSpec::load(name)?;
        if let Some(v) = overrides.seeds {
            spec.seeds = v;
        }
        if let Some(v) = overrides.budget {
            spec.budget = v;
        }
        if let Some(v) = overrides.eval_every {
            spec.eval_every = v;
        }
        if let Some(v) = &overrides.teachers {
            spec.teachers = v.clone();
        }
        if let Some(v) = &overrides.expert_knowledge {
            spec.expert_knowledge = v.clone();
        }
        spec.validate()
            .with_context(|| format!("benchmark spec `{name}` with the flags"))?;
        loaded.push(spec);
    }
    Ok(loaded)
}

/// A run of a benchmark with the state of its directory.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// The run.
    pub run: RunSpec,
    /// What its directory holds.
    pub state: RunState,
}

/// What every engine does before it runs anything: expands the specs, checks every run
/// directory against its run's configuration (before anything is written), and writes each
/// cell's `spec.toml`. Returns the runs in the expansion's order.
///
/// # Errors
/// A spec that does not expand, two specs with the same cell name, a run directory of another
/// configuration, I/O failures.
pub fn plan_benchmark(specs: &[BenchmarkSpec], out: &Path) -> Result<Vec<PlannedRun>> {
    let mut runs = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|s| s.name == spec.name) {
            bail!(
                "two specs make cell `{}`; give each its own name",
                spec.name
            );
        }
        let expansion = spec
            .expand()
            .with_context(|| format!("benchmark spec `{}`", spec.name))?;
        for note in &expansion.notes {
            eprintln!("note: {}: {note}", spec.name);
        }
        runs.extend(expansion.runs);
    }
    let mut planned = Vec::with_capacity(runs.len());
    for run in runs {
        let state = run_state(&out.join(&run.dir), &run.config)?;
        planned.push(PlannedRun { run, state });
    }
    for spec in specs {
        let dir = out.join(&spec.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write_atomically(&dir.join(CELL_SPEC_FILE), &spec.to_toml()?)?;
    }
    Ok(planned)
}

/// Prepares a run's directory for `teachgym train --config DIR/config.toml --out DIR`: creates
/// it and, unless the run resumes, writes its configuration. Returns the config file's path.
///
/// # Errors
/// I/O failures, a configuration TOML cannot hold.
pub fn prepare_run_dir(dir: &Path, config: &RunConfig, resume: bool) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config_path = dir.join("config.toml");
    if !resume {
        write_atomically(&config_path, &config.to_toml()?)?;
    }
    Ok(config_path)
}

/// Checks what a run directory holds against the run's configuration.
fn run_state(dir: &Path, config: &RunConfig) -> Result<RunState> {
    let finished = RunSummary::read(dir)?.is_some();
    if !(finished || dir.join("checkpoint.json").exists()) {
        // Nothing to keep: the run starts (again) from the beginning.
        return Ok(RunState::Fresh);
    }
    let mut saved = RunConfig::from_toml_file(&dir.join("config.toml"))?;
    // Neither the threads nor the plots change a run (as for `train --resume`).
    saved.trainer.threads = config.trainer.threads;
    saved.plot = config.plot.clone();
    if &saved != config {
        bail!(
            "{} holds a run of another configuration than its spec gives ({}); the spec \
             changed since that run: use another benchmark directory, or delete the run",
            dir.display(),
            describe_difference(&saved, config)
        );
    }
    Ok(if finished {
        RunState::Finished
    } else {
        RunState::Checkpointed
    })
}

/// A run the pool is running.
struct Worker {
    run: usize,
    child: Child,
    /// Held open: the child exits when it reads end-of-file, i.e. when the benchmark dies.
    _stdin: ChildStdin,
    start_step: u64,
}

/// Runs `teachgym benchmark`: expands every spec, skips finished runs, resumes checkpointed
/// ones and runs the rest, `jobs` at a time.
///
/// # Errors
/// A spec that does not expand, two specs with the same cell name, a run directory of another
/// configuration (checked before any run starts), I/O failures, and failed runs (after every
/// other run is done; the message names their logs).
pub fn run_benchmark(options: &BenchmarkOptions) -> Result<BenchmarkSummary> {
    let (runs, states): (Vec<RunSpec>, Vec<RunState>) =
        plan_benchmark(&options.specs, &options.out)?
            .into_iter()
            .map(|p| (p.run, p.state))
            .unzip();
    let mut summary = BenchmarkSummary {
        total: runs.len(),
        ..BenchmarkSummary::default()
    };
    let mut pending = Vec::new();
    for (i, state) in states.iter().enumerate() {
        match state {
            RunState::Finished => summary.skipped += 1,
            RunState::Checkpointed | RunState::Fresh => pending.push(i),
        }
    }
    pending.reverse(); // popped from the end: the expansion's order
    let mut progress = PoolProgress::new(options.progress, &runs, &states);
    let jobs = options.jobs.max(1);
    let mut workers: Vec<Worker> = Vec::new();
    let mut failed: Vec<(PathBuf, String)> = Vec::new();
    loop {
        while workers.len() < jobs {
            let Some(i) = pending.pop() else { break };
            let dir = options.out.join(&runs[i].dir);
            let resume = matches!(states[i], RunState::Checkpointed);
            let worker = start_run(&options.exe, &dir, &runs[i].config, resume)
                .with_context(|| format!("cannot start run {}", dir.display()))?;
            workers.push(Worker {
                run: i,
                start_step: if resume { last_step(&dir) } else { 0 },
                ..worker
            });
        }
        if workers.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut k = 0;
        while k < workers.len() {
            let Some(status) = workers[k].child.try_wait()? else {
                k += 1;
                continue;
            };
            let worker = workers.swap_remove(k);
            let run = &runs[worker.run];
            let dir = options.out.join(&run.dir);
            let done = status.success() && RunSummary::read(&dir)?.is_some();
            if done {
                summary.finished += 1;
                if matches!(states[worker.run], RunState::Checkpointed) {
                    summary.resumed += 1;
                }
            } else {
                failed.push((dir.join(RUN_LOG), status.to_string()));
            }
            progress.run_ended(&run.dir, done, worker.start_step, &run.config);
        }
        progress.tick(&options.out, &runs, &workers);
    }
    progress.finish();
    if !failed.is_empty() {
        let list: Vec<String> = failed
            .iter()
            .map(|(log, status)| format!("  {} ({status})", log.display()))
            .collect();
        bail!(
            "{} of {} runs failed; the end of each log says why:\n{}",
            failed.len(),
            summary.total,
            list.join("\n")
        );
    }
    Ok(summary)
}

/// The log of a benchmark run's worker (its stdout and stderr), in the run directory.
pub const RUN_LOG: &str = "train.log";

/// Starts `teachgym train` on one run.
fn start_run(exe: &Path, dir: &Path, config: &RunConfig, resume: bool) -> Result<Worker> {
    let config_path = prepare_run_dir(dir, config, resume)?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(RUN_LOG))
        .with_context(|| format!("cannot open {}", dir.join(RUN_LOG).display()))?;
    let mut command = Command::new(exe);
    command
        .arg("train")
        .arg("--config")
        .arg(&config_path)
        .arg("--out")
        .arg(dir)
        .arg("--quiet")
        .arg("--exit-with-parent");
    if resume {
        command.arg("--resume");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let stdin = child.stdin.take().context("no stdin pipe to the run")?;
    Ok(Worker {
        run: 0,
        child,
        _stdin: stdin,
        start_step: 0,
    })
}

/// The step of a run's last evaluation (0 before the first), from its `evaluations.csv`.
fn last_step(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("evaluations.csv"))
        .ok()
        .and_then(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| line.split(',').next()?.trim().parse().ok())
                .last()
        })
        .unwrap_or(0)
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The pool's progress display: runs done / running / left and the time left, estimated from
/// the env steps done since the command started (finished runs and the running runs' last
/// evaluations).
struct PoolProgress {
    enabled: bool,
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
    total: usize,
    done: usize,
    failed: usize,
    /// Env steps of the runs still to do when the command started.
    steps_left_at_start: u64,
    /// Env steps done by runs that ended since.
    steps_done: u64,
}

impl PoolProgress {
    fn new(enabled: bool, runs: &[RunSpec], states: &[RunState]) -> Self {
        use std::io::IsTerminal;
        let done = states
            .iter()
            .filter(|s| matches!(s, RunState::Finished))
            .count();
        let steps_left_at_start = runs
            .iter()
            .zip(states)
            .filter(|(_, s)| !matches!(s, RunState::Finished))
            .map(|(r, _)| r.config.trainer.total_steps)
            .sum();
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(runs.len() as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} runs | {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_position(done as u64);
            bar
        });
        let now = Instant::now();
        let progress = PoolProgress {
            enabled,
            bar,
            started: now,
            last_line: now,
            total: runs.len(),
            done,
            failed: 0,
            steps_left_at_start,
            steps_done: 0,
        };
        progress.line(format!(
            "benchmark: {} runs, {} finished before, {} to run",
            runs.len(),
            done,
            runs.len() - done
        ));
        progress
    }

    fn line(&self, text: String) {
        if !self.enabled {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn status(&self, running: usize, running_steps: u64) -> String {
        let left = self.total - self.done - self.failed - running;
        let done_steps = self.steps_done + running_steps;
        let eta = if done_steps == 0 {
            "time left: after the first evaluations".to_string()
        } else {
            let rate = done_steps as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let remaining = self.steps_left_at_start.saturating_sub(done_steps) as f64;
            format!("about {} left", human_duration(remaining / rate))
        };
        let failed = if self.failed > 0 {
            format!(", {} failed", self.failed)
        } else {
            String::new()
        };
        format!(
            "{} done, {running} running, {left} left{failed}; {eta}",
            self.done
        )
    }

    fn run_ended(&mut self, dir: &Path, ok: bool, start_step: u64, config: &RunConfig) {
        // A run's planned steps may exceed its budget (whole learning iterations): counted as
        // the budget, so the estimate's total stays the sum of budgets.
        self.steps_done += config.trainer.total_steps.saturating_sub(start_step);
        if ok {
            self.done += 1;
        } else {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.done as u64);
        }
        let verb = if ok { "finished" } else { "FAILED" };
        self.line(format!("{verb} {}", dir.display()));
    }

    fn tick(&mut self, out: &Path, runs: &[RunSpec], workers: &[Worker]) {
        // The bar's message once a second, a log line once a heartbeat.
        let every = if self.bar.is_some() {
            1
        } else {
            crate::train::HEARTBEAT_SECS
        };
        if !self.enabled || self.last_line.elapsed().as_secs() < every {
            return;
        }
        self.last_line = Instant::now();
        let running_steps: u64 = workers
            .iter()
            .map(|w| {
                let total = runs[w.run].config.trainer.total_steps;
                last_step(&out.join(&runs[w.run].dir))
                    .min(total)
                    .saturating_sub(w.start_step)
            })
            .sum();
        let status = self.status(workers.len(), running_steps);
        match &self.bar {
            Some(bar) => bar.set_message(status),
            None => eprintln!("benchmark: {status}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.line(format!(
            "benchmark: {} of {} runs finished{} in {}",
            self.done,
            self.total,
            if self.failed > 0 {
                format!(", {} failed", self.failed)
            } else {
                String::new()
            },
            human_duration(self.started.elapsed().as_secs_f64())
        ));
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const SMALL: &str = r#"
name = "pm"
teachers = ["random", "alp_gmm", "adr"]
expert_knowledge = ["none", "low"]
seeds = 2
budget = 4096
eval_every = 2048
[run]
env = "point_mass"
[run.trainer]
num_envs = 4
"#;

    #[test]
    fn every_built_in_spec_parses_and_expands() {
        for (name, text) in BUILT_IN_SPECS {
            let spec = BenchmarkSpec::from_toml_str(text, name).unwrap();
            assert_eq!(spec.name, name);
            let expansion = spec.expand().unwrap();
            assert!(!expansion.runs.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_spec_expands_into_teachers_levels_and_seeds() {
        let spec = BenchmarkSpec::from_toml_str(SMALL, "test").unwrap();
        let expansion = spec.expand().unwrap();
        let dirs: Vec<String> = expansion
            .runs
            .iter()
            .map(|r| r.dir.display().to_string())
            .collect();
        // random reads no expert knowledge: one directory; ADR cannot run without: skipped.
        assert_eq!(
            dirs,
            [
                "pm/random/seed0",
                "pm/alp_gmm-none/seed0",
                "pm/alp_gmm-low/seed0",
                "pm/adr-low/seed0",
                "pm/random/seed1",
                "pm/alp_gmm-none/seed1",
                "pm/alp_gmm-low/seed1",
                "pm/adr-low/seed1",
            ]
        );
        assert_eq!(expansion.notes.len(), 1, "{:?}", expansion.notes);
        assert!(expansion.notes[0].starts_with("adr-none skipped"));
        let run = &expansion.runs[6];
        assert_eq!(run.config.seed, 1);
        assert_eq!(run.config.trainer.total_steps, 4096);
        assert_eq!(run.config.trainer.num_envs, 4);
        assert_eq!(run.config.expert_knowledge, Some(ExpertLevel::Low));
        // The resolved config reads back as itself (what the workers get).
        let back = RunConfig::from_toml_str(&run.config.to_toml().unwrap()).unwrap();
        assert_eq!(back, run.config);
    }

    #[test]
    fn variants_merge_over_the_run_table() {
        let text = format!(
            "{SMALL}\n[[variants]]\nname = \"ppo\"\n[[variants]]\nname = \"sac\"\n\
             [variants.run]\nstudent = \"sac\"\n"
        );
        let spec = BenchmarkSpec::from_toml_str(&text, "test").unwrap();
        let runs = spec.expand().unwrap().runs;
        let sac = runs
            .iter()
            .find(|r| r.dir.ends_with("sac-seed0"))
            .expect("a sac run");
        assert_eq!(sac.config.student.name(), "sac");
        assert_eq!(
            sac.config.trainer.num_envs, 4,
            "the base's trainer table is kept"
        );
        assert_eq!(runs.len(), 2 * 2 * 4);
    }

    #[test]
    fn a_bad_spec_names_its_field() {
        for (edit, needle) in [
            (("seeds = 2", "seeds = 0"), "seeds"),
            (("seeds = 2", "seed = 2"), "seed"),
            (("\"adr\"]", "\"adr\", \"sage\"]"), "unknown teacher `sage`"),
            (("\"low\"]", "\"medium\"]"), "medium"),
            (("budget = 4096", "budget = \"big\""), "budget"),
            (("name = \"pm\"", "name = \"../x\""), "name"),
            (("[run]", "[run]\nteacher = \"riac\""), "run.teacher"),
            (
                ("num_envs = 4", "total_steps = 9"),
                "run.trainer.total_steps",
            ),
            (("num_envs = 4", "num_env = 4"), "num_env"),
        ] {
            let text = SMALL.replacen(edit.0, edit.1, 1);
            let err = BenchmarkSpec::from_toml_str(&text, "test")
                .and_then(|s| s.expand().map(|_| s))
                .expect_err(needle);
            let message = format!("{err:#}");
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }
}
