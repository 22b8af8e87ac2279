//! `teachgym report`: the statistics of a benchmark directory ([`crate::benchmark`]) as
//! TeachMyAgent reports them, with its published ratios beside ours.
//!
//! Per cell and teacher (and expert-knowledge level): the final % of the test set mastered,
//! mean ± SEM over the finished seeds; the ratio of that mean to Random's in the same cell
//! (TeachMyAgent's radar value); Welch t-tests against Random (one-sided "better than Random",
//! which TeachMyAgent stars at p < 0.05, and two-sided); the learning curves (mean ± SEM over
//! seeds, evaluation by evaluation); the radar of the ratios over the cells; a curriculum
//! snapshot per teacher (the `curriculum.png` of its first finished run).
//!
//! The report directory holds `report.md`, `summary.csv` (one row per cell and teacher),
//! `runs.csv` (one row per finished run), `curves.csv` (one row per evaluation point of each
//! curve) and the PNGs. Every number comes from the runs' files in a fixed order, so the same
//! finished runs give the same CSV files byte for byte, whichever order they finished in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use teachgym_teachers::stats::{mean, std_dev, student_t_cdf, welch_t_test_greater};
use teachgym_teachers::{ExpertLevel, TEACHER_NAMES};

use crate::benchmark::{BenchmarkSpec, Challenge, CELL_SPEC_FILE};
use crate::plots::{self, CurveSeries, RadarPanel, RadarSeries};
use crate::train::RunSummary;

/// How to run `teachgym report`.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The benchmark directory.
    pub dir: PathBuf,
    /// Where the report goes; default `dir/report`.
    pub out: Option<PathBuf>,
}

/// What `teachgym report` wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// `report.md`.
    pub markdown: PathBuf,
    /// Every file written.
    pub files: Vec<PathBuf>,
    /// Things the reader should know (runs not finished, no Random to compare with, ...).
    pub notes: Vec<String>,
}

/// Summary statistics of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Size.
    pub n: usize,
    /// Mean (NaN when empty).
    pub mean: f64,
    /// Sample standard deviation (`n − 1`; NaN below 2 values).
    pub std: f64,
    /// Standard error of the mean, `std / √n` (NaN below 2 values).
    pub sem: f64,
}

impl Sample {
    /// The statistics of `xs`.
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len();
        let std = if n < 2 { f64::NAN } else { std_dev(xs) };
        Sample {
            n,
            mean: if n == 0 { f64::NAN } else { mean(xs) },
            std,
            sem: std / (n as f64).sqrt(),
        }
    }
}

/// Welch's t-test of `a` against `b`: one-sided p of `mean(a) > mean(b)` and two-sided p. NaN
/// for fewer than 2 values in either sample; with no variance in either, p is 0 or 1.
pub fn welch_p_values(a: &[f64], b: &[f64]) -> (f64, f64) {
    if a.len() < 2 || b.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    if std_dev(a) == 0.0 && std_dev(b) == 0.0 {
        let diff = mean(a) - mean(b);
        return if diff > 0.0 {
            (0.0, 0.0)
        } else if diff < 0.0 {
            (1.0, 0.0)
        } else {
            (1.0, 1.0)
        };
    }
    let test = welch_t_test_greater(a, b);
    let two_sided = (2.0 * (1.0 - student_t_cdf(test.t.abs(), test.df))).min(1.0);
    (test.p_value, two_sided)
}

/// TeachMyAgent's published ratio to Random (final mean % mastered ÷ Random's) and whether
/// the figure stars it, read from the paper's radar (Fig. 3, see the reference notes: figure
/// readings, some approximate) or, on Parkour, computed from its pooled final % mastered, for
/// `teacher` at `level` on `challenge`. A teacher without a level (it reads no expert
/// knowledge here) takes TeachMyAgent's lowest level that has it. `None` where TeachMyAgent has
/// no value (the challenge-free cell, other teachers, levels above `low` on Parkour).
pub fn published_ratio(
    challenge: Challenge,
    teacher: &str,
    level: Option<ExpertLevel>,
) -> Option<(f64, bool)> {
    let axis = match challenge {
        Challenge::None => return None,
        Challenge::Parkour => return published_parkour_ratio(teacher, level),
        Challenge::MostlyUnfeasible => 0,
        Challenge::MostlyTrivial => 1,
        Challenge::ForgettingStudent => 2,
        Challenge::RuggedDifficulty => 3,
        Challenge::VarietyOfStudents => 4,
    };
    if teacher == "random" {
        return Some((1.0, false));
    }
    let levels = match level {
        Some(level) => vec![level],
        None => vec![ExpertLevel::None, ExpertLevel::Low, ExpertLevel::High],
    };
    levels.into_iter().find_map(|level| {
        PUBLISHED_RATIOS
            .iter()
            .find(|(l, t, _)| *l == level && *t == teacher)
            .map(|(_, _, values)| values[axis])
    })
}

/// TeachMyAgent's Parkour results (its model card: final % mastered after 20 M steps, the
/// walker, fish and climber pooled, 48 seeds per teacher, every run at the `low` level) as ratios
/// to Random's 16.9 %; only ALP-GMM is significantly better than Random at the end.
fn published_parkour_ratio(teacher: &str, level: Option<ExpertLevel>) -> Option<(f64, bool)> {
    const RANDOM_PERCENT: f64 = 16.9;
    const FINAL_PERCENT: [(&str, f64, bool); 8] = [
        ("random", 16.9, false),
        ("alp_gmm", 26.4, true),
        ("riac", 23.0, false),
        ("covar_gmm", 22.1, false),
        ("goal_gan", 20.3, false),
        ("spdl", 13.5, false),
        ("setter_solver", 11.3, false),
        ("adr", 6.7, false),
    ];
    if !matches!(level, None | Some(ExpertLevel::Low)) {
        return None;
    }
    FINAL_PERCENT
        .iter()
        .find(|(name, _, _)| *name == teacher)
        // Two decimals, as the radar readings have.
        .map(|&(_, percent, better)| ((percent / RANDOM_PERCENT * 100.0).round() / 100.0, better))
}

/// A row of [`PUBLISHED_RATIOS`].
type PublishedRow = (ExpertLevel, &'static str, [(f64, bool); 5]);

/// TeachMyAgent's radar (paper Fig. 3): ratio to Random and star, per level and teacher, over
/// unfeasible, trivial, forgetting, rugged, variety.
#[rustfmt::skip]
const PUBLISHED_RATIOS: [PublishedRow; 18] = {
    use ExpertLevel::{High, Low, None as No};
    [
        (No, "alp_gmm", [(2.4, true), (2.5, true), (1.5, true), (1.4, true), (1.4, true)]),
        (No, "covar_gmm", [(2.2, true), (1.9, true), (1.1, false), (1.3, true), (1.5, true)]),
        (No, "riac", [(1.25, false), (1.1, false), (1.3, true), (1.2, true), (1.2, true)]),
        (No, "spdl", [(0.4, false), (0.9, false), (0.4, false), (0.65, false), (0.4, false)]),
        (Low, "alp_gmm", [(2.5, true), (2.45, true), (1.45, true), (1.4, true), (1.4, true)]),
        (Low, "covar_gmm", [(1.8, true), (2.4, true), (1.1, false), (1.05, false), (1.45, true)]),
        (Low, "riac", [(1.2, false), (1.2, false), (1.2, false), (1.2, true), (1.2, true)]),
        (Low, "setter_solver", [(1.5, true), (2.0, true), (1.15, false), (1.0, false), (1.1, true)]),
        (Low, "goal_gan", [(0.8, false), (2.2, true), (0.3, false), (1.1, false), (0.75, false)]),
        (Low, "adr", [(0.5, false), (1.3, false), (0.7, false), (0.5, false), (0.7, false)]),
        (Low, "spdl", [(0.45, false), (1.0, false), (0.35, false), (0.55, false), (0.4, false)]),
        (High, "alp_gmm", [(2.8, true), (2.5, true), (1.5, true), (1.35, true), (1.4, true)]),
        (High, "adr", [(2.6, true), (1.8, true), (1.4, true), (0.5, false), (1.45, true)]),
        (High, "goal_gan", [(2.3, true), (2.6, true), (0.8, false), (1.3, true), (1.3, true)]),
        (High, "covar_gmm", [(2.2, true), (2.25, true), (1.35, true), (1.25, true), (1.5, true)]),
        (High, "setter_solver", [(1.6, true), (1.9, true), (1.3, true), (1.1, true), (1.1, false)]),
        (High, "riac", [(1.5, true), (1.55, true), (1.3, true), (1.2, true), (1.2, true)]),
        (High, "spdl", [(1.15, false), (1.3, true), (0.4, false), (1.0, false), (0.7, false)]),
    ]
};

/// One run of a cell, as found on disk.
#[derive(Debug, Clone)]
struct RunResult {
    variant: String,
    seed: u64,
    dir: PathBuf,
    summary: Option<RunSummary>,
    /// `(global_step, % mastered)` of every evaluation.
    evaluations: Vec<(u64, f64)>,
}

/// A teacher at one expert-knowledge level in a cell: its directory and runs.
#[derive(Debug, Clone)]
struct Group {
    name: String,
    teacher: String,
    level: Option<ExpertLevel>,
    runs: Vec<RunResult>,
}

impl Group {
    fn finished(&self) -> impl Iterator<Item = &RunResult> {
        self.runs.iter().filter(|r| r.summary.is_some())
    }

    fn finals(&self) -> Vec<f64> {
        self.finished()
            .filter_map(|r| r.summary.as_ref().map(|s| s.mastered_percent))
            .collect()
    }

    fn level_name(&self) -> &'static str {
        self.level.map_or("-", ExpertLevel::name)
    }
}

/// A cell: its spec and its groups in the spec's teacher order.
#[derive(Debug, Clone)]
struct Cell {
    name: String,
    spec: BenchmarkSpec,
    groups: Vec<Group>,
}

/// The statistics of one group, as `summary.csv` lists them.
#[derive(Debug, Clone)]
struct GroupStats {
    finals: Sample,
    ratio: f64,
    p_better: f64,
    p_two_sided: f64,
    published: Option<(f64, bool)>,
}

/// Reads every cell of a benchmark directory (the subdirectories with a `spec.toml`), in name
/// order.
fn read_cells(dir: &Path) -> Result<Vec<Cell>> {
    let mut cells = Vec::new();
    for cell_dir in sorted_subdirs(dir)? {
        let spec_path = cell_dir.join(CELL_SPEC_FILE);
        if !spec_path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&spec_path)
            .with_context(|| format!("cannot read {}", spec_path.display()))?;
        let spec = BenchmarkSpec::from_toml_str(&text, &spec_path.display().to_string())?;
        let mut groups = Vec::new();
        for group_dir in sorted_subdirs(&cell_dir)? {
            let name = file_name(&group_dir);
            let Some((teacher, level)) = parse_group(&name) else {
                continue;
            };
            let mut runs = Vec::new();
            for run_dir in sorted_subdirs(&group_dir)? {
                let Some((variant, seed)) = parse_run(&file_name(&run_dir)) else {
                    continue;
                };
                let summary = RunSummary::read(&run_dir)?;
                let evaluations = if summary.is_some() {
                    read_evaluations(&run_dir.join("evaluations.csv"))?
                } else {
                    Vec::new()
                };
                runs.push(RunResult {
                    variant,
                    seed,
                    dir: run_dir,
                    summary,
                    evaluations,
                });
            }
            let variant_rank = |v: &str| {
                spec.variants
                    .iter()
                    .position(|w| w.name == v)
                    .unwrap_or(usize::MAX)
            };
            runs.sort_by(|a, b| {
                (variant_rank(&a.variant), &a.variant, a.seed).cmp(&(
                    variant_rank(&b.variant),
                    &b.variant,
                    b.seed,
                ))
            });
            groups.push(Group {
                name,
                teacher,
                level,
                runs,
            });
        }
        let teacher_rank = |t: &str| {
            spec.teachers
                .iter()
                .position(|s| s == t)
                .unwrap_or(usize::MAX)
        };
        groups.sort_by(|a, b| {
            (teacher_rank(&a.teacher), &a.teacher, a.level).cmp(&(
                teacher_rank(&b.teacher),
                &b.teacher,
                b.level,
            ))
        });
        cells.push(Cell {
            name: file_name(&cell_dir),
            spec,
            groups,
        });
    }
    Ok(cells)
}

fn sorted_subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `teacher` or `teacher-level`.
fn parse_group(name: &str) -> Option<(String, Option<ExpertLevel>)> {
    if TEACHER_NAMES.contains(&name) {
        return Some((name.to_string(), None));
    }
    let (teacher, level) = name.rsplit_once('-')?;
    if !TEACHER_NAMES.contains(&teacher) {
        return None;
    }
    Some((teacher.to_string(), Some(level.parse().ok()?)))
}

/// `seed<N>` or `<variant>-seed<N>`.
fn parse_run(name: &str) -> Option<(String, u64)> {
    let (variant, seed) = match name.rsplit_once("-seed") {
        Some((variant, seed)) => (variant.to_string(), seed),
        None => (String::new(), name.strip_prefix("seed")?),
    };
    Some((variant, seed.parse().ok()?))
}

fn read_evaluations(path: &Path) -> Result<Vec<(u64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split(',');
            let step = fields.next().unwrap_or_default().trim().parse()?;
            let mastered = fields.next().unwrap_or_default().trim().parse()?;
            Ok((step, mastered))
        })
        .collect::<Result<_>>()
        .with_context(|| format!("malformed {}", path.display()))
}

fn group_stats(cell: &Cell, group: &Group) -> GroupStats {
    let finals = group.finals();
    let sample = Sample::of(&finals);
    let random = cell.groups.iter().find(|g| g.teacher == "random");
    let (ratio, p_better, p_two_sided) = match random {
        Some(random) => {
            let reference = random.finals();
            let base = Sample::of(&reference).mean;
            let ratio = if base > 0.0 {
                sample.mean / base
            } else {
                f64::NAN
            };
            if group.teacher == "random" {
                (ratio, f64::NAN, f64::NAN)
            } else {
                let (one, two) = welch_p_values(&finals, &reference);
                (ratio, one, two)
            }
        }
        None => (f64::NAN, f64::NAN, f64::NAN),
    };
    GroupStats {
        finals: sample,
        ratio,
        p_better,
        p_two_sided,
        published: published_ratio(cell.spec.challenge, &group.teacher, group.level),
    }
}

/// Mean ± SEM curve of a group: one point per evaluation index (the k-th evaluation of every
/// finished run), at the mean of their steps.
fn group_curve(group: &Group) -> Vec<(f64, Sample)> {
    let runs: Vec<&RunResult> = group.finished().collect();
    let longest = runs.iter().map(|r| r.evaluations.len()).max().unwrap_or(0);
    (0..longest)
        .map(|k| {
            let points: Vec<(u64, f64)> = runs
                .iter()
                .filter_map(|r| r.evaluations.get(k).copied())
                .collect();
            let steps: Vec<f64> = points.iter().map(|p| p.0 as f64).collect();
            let values: Vec<f64> = points.iter().map(|p| p.1).collect();
            (mean(&steps), Sample::of(&values))
        })
        .collect()
}

/// A number for the CSV files: Rust's shortest round-trip form, empty when undefined.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// A number for the Markdown tables, `-` when undefined.
fn shown(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "-".to_string()
    }
}

fn p_shown(p: f64) -> String {
    if !p.is_finite() {
        "-".to_string()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// Writes the report of the benchmark in `options.dir`.
///
/// # Errors
/// A directory without any cell, unreadable or corrupt run files, I/O failures.
pub fn write_report(options: &ReportOptions) -> Result<ReportFiles> {
    let cells = read_cells(&options.dir)?;
    if cells.is_empty() {
        anyhow::bail!(
            "{} holds no benchmark cell (a directory with a {CELL_SPEC_FILE}); run `teachgym \
             benchmark --out {}` first",
            options.dir.display(),
            options.dir.display()
        );
    }
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| options.dir.join("report"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut files = Vec::new();
    let mut notes = Vec::new();

    let mut summary_csv = String::from(
        "cell,challenge,teacher,expert_knowledge,runs_finished,runs_unfinished,final_mastered_mean,\
         final_mastered_sem,final_mastered_std,ratio_to_random,p_better_than_random,p_two_sided,\
         significant,published_ratio,published_significant\n",
    );
    let mut runs_csv = String::from(
        "cell,teacher,expert_knowledge,variant,seed,global_step,episodes,final_mastered_percent,\
         final_mean_return\n",
    );
    let mut curves_csv = String::from(
        "cell,teacher,expert_knowledge,evaluation,global_step_mean,runs,mastered_mean,mastered_sem\n",
    );
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark report: {}\n", options.dir.display());
    let _ = writeln!(
        md,
        "Final % of the test set mastered, mean ± SEM over the finished seeds; ratio = that \
         mean ÷ Random's in the same cell; p = Welch t-test against Random (one-sided: better \
         than Random, starred ★ below 0.05 as in TeachMyAgent; and two-sided). TeachMyAgent's \
         ratios are read from its paper's radar (Fig. 3; figure readings, ≈ ±0.05), on Parkour \
         computed from its pooled final % mastered (its model card); a teacher \
         that reads no expert knowledge here is compared with TeachMyAgent's lowest level that \
         has it. Every number is in `summary.csv`, `runs.csv` and `curves.csv`.\n"
    );
    // (cell, teacher group name, level, ratio, p_better) for the radar.
    let mut radar_values: Vec<(String, Challenge, String, Option<ExpertLevel>, f64, bool)> =
        Vec::new();
    for cell in &cells {
        let spec = &cell.spec;
        let _ = writeln!(md, "## {}\n", cell.name);
        if !spec.description.is_empty() {
            let _ = writeln!(md, "{}\n", spec.description);
        }
        let _ = writeln!(
            md,
            "Challenge `{}`; budget {} env steps, an evaluation every {}; seeds asked: {}.\n",
            spec.challenge.name(),
            spec.budget,
            spec.eval_every,
            spec.seeds
        );
        if !cell.groups.iter().any(|g| g.teacher == "random") {
            notes.push(format!(
                "cell `{}` has no Random runs: no ratios or p-values",
                cell.name
            ));
        }
        let _ = writeln!(
            md,
            "| teacher | EK | runs | final % mastered | ratio to Random | p (better) | p (two-sided) | TeachMyAgent's ratio |\n|---|---|---|---|---|---|---|---|"
        );
        let mut series = Vec::new();
        for group in &cell.groups {
            let stats = group_stats(cell, group);
            let unfinished = group.runs.len() - stats.finals.n;
            if unfinished > 0 {
                notes.push(format!(
                    "{}/{}: {unfinished} of {} runs not finished (left out)",
                    cell.name,
                    group.name,
                    group.runs.len()
                ));
            }
            let significant = stats.p_better < 0.05;
            let _ = writeln!(
                summary_csv,
                "{},{},{},{},{},{unfinished},{},{},{},{},{},{},{},{},{}",
                cell.name,
                spec.challenge.name(),
                group.teacher,
                group.level_name(),
                stats.finals.n,
                num(stats.finals.mean),
                num(stats.finals.sem),
                num(stats.finals.std),
                num(stats.ratio),
                num(stats.p_better),
                num(stats.p_two_sided),
                if stats.p_better.is_finite() {
                    significant.to_string()
                } else {
                    String::new()
                },
                stats.published.map_or(String::new(), |(r, _)| num(r)),
                stats
                    .published
                    .map_or(String::new(), |(_, s)| s.to_string()),
            );
            let star = if significant { " ★" } else { "" };
            let published = stats.published.map_or("-".to_string(), |(r, s)| {
                format!("{r}{}", if s { " ★" } else { "" })
            });
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} ± {} | {}{star} | {} | {} | {published} |",
                group.teacher,
                group.level_name(),
                stats.finals.n,
                shown(stats.finals.mean, 1),
                shown(stats.finals.sem, 1),
                shown(stats.ratio, 2),
                p_shown(stats.p_better),
                p_shown(stats.p_two_sided),
            );
            radar_values.push((
                cell.name.clone(),
                spec.challenge,
                group.teacher.clone(),
                group.level,
                stats.ratio,
                significant,
            ));
            for run in group.finished() {
                let s = run.summary.as_ref().expect("finished");
                let _ = writeln!(
                    runs_csv,
                    "{},{},{},{},{},{},{},{},{}",
                    cell.name,
                    group.teacher,
                    group.level_name(),
                    run.variant,
                    run.seed,
                    s.global_step,
                    s.episodes,
                    num(s.mastered_percent),
                    num(s.mean_return)
                );
            }
            let curve = group_curve(group);
            for (k, (step, sample)) in curve.iter().enumerate() {
                let _ = writeln!(
                    curves_csv,
                    "{},{},{},{k},{},{},{},{}",
                    cell.name,
                    group.teacher,
                    group.level_name(),
                    num(*step),
                    sample.n,
                    num(sample.mean),
                    num(sample.sem)
                );
            }
            series.push(CurveSeries {
                label: match group.level {
                    Some(level) => format!("{} ({level})", group.teacher),
                    None => group.teacher.clone(),
                },
                points: curve
                    .iter()
                    .map(|(step, s)| (*step, s.mean, if s.sem.is_finite() { s.sem } else { 0.0 }))
                    .collect(),
            });
        }
        let curves_png = out.join(format!("curves_{}.png", cell.name));
        plots::mean_curves(
            &curves_png,
            &format!(
                "{}: % of the test set mastered, mean ± SEM over seeds",
                cell.name
            ),
            &series,
        )?;
        let _ = writeln!(
            md,
            "\n![curves of {}]({})\n",
            cell.name,
            file_name(&curves_png)
        );
        files.push(curves_png);

        // Curriculum snapshots: the first finished run of each group.
        let mut snapshots = Vec::new();
        for group in &cell.groups {
            let Some(run) = group
                .finished()
                .find(|r| r.dir.join("curriculum.png").exists())
            else {
                continue;
            };
            let dir = out.join("curricula").join(&cell.name);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let target = dir.join(format!("{}.png", group.name));
            std::fs::copy(run.dir.join("curriculum.png"), &target)
                .with_context(|| format!("cannot write {}", target.display()))?;
            let relative = format!("curricula/{}/{}.png", cell.name, group.name);
            let seed = if run.variant.is_empty() {
                format!("seed {}", run.seed)
            } else {
                format!("{} seed {}", run.variant, run.seed)
            };
            snapshots.push(format!(
                "- {} ({seed}): [{relative}]({relative})",
                group.name
            ));
            files.push(target);
        }
        if !snapshots.is_empty() {
            let _ = writeln!(
                md,
                "Curriculum snapshots (each teacher's first finished run):\n"
            );
            for line in snapshots {
                let _ = writeln!(md, "{line}");
            }
            let _ = writeln!(md);
        }
    }

    // The radar: one panel per expert-knowledge level, the cells as axes.
    let radar_png = out.join("radar.png");
    if cells.len() >= 3 {
        let axes: Vec<String> = cells.iter().map(|c| c.name.clone()).collect();
        let mut levels: Vec<Option<ExpertLevel>> =
            radar_values.iter().filter_map(|v| v.3.map(Some)).collect();
        levels.sort();
        levels.dedup();
        if levels.is_empty() {
            levels.push(None);
        }
        let mut panels = Vec::new();
        for level in levels {
            let mut teachers: Vec<String> = Vec::new();
            for v in &radar_values {
                if (v.3 == level || v.3.is_none()) && !teachers.contains(&v.2) {
                    teachers.push(v.2.clone());
                }
            }
            let series = teachers
                .iter()
                .map(|teacher| RadarSeries {
                    label: teacher.clone(),
                    values: cells
                        .iter()
                        .map(|cell| {
                            radar_values
                                .iter()
                                .find(|v| {
                                    v.0 == cell.name
                                        && &v.2 == teacher
                                        && (v.3 == level || v.3.is_none())
                                })
                                .map_or((f64::NAN, false), |v| (v.4, v.5))
                        })
                        .collect(),
                })
                .collect();
            panels.push(RadarPanel {
                title: match level {
                    Some(level) => format!("expert knowledge: {level}"),
                    None => "ratio to Random".to_string(),
                },
                series,
            });
        }
        plots::radar(
            &radar_png,
            "final % mastered ÷ Random's (* = better than Random, Welch p < 0.05)",
            &axes,
            &panels,
        )?;
        let _ = writeln!(
            md,
            "## Radar\n\nRatio to Random per cell (axes) and teacher, one panel per expert-knowledge \
             level (teachers that read none appear in each); the red ring is Random (1).\n\n![radar](radar.png)\n"
        );
        files.push(radar_png);
    } else {
        let _ = std::fs::remove_file(&radar_png);
        notes.push(format!(
            "no radar: it needs at least 3 cells, the benchmark has {}",
            cells.len()
        ));
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "## Notes\n");
        for note in &notes {
            let _ = writeln!(md, "- {note}");
        }
    }
    for (name, text) in [
        ("summary.csv", &summary_csv),
        ("runs.csv", &runs_csv),
        ("curves.csv", &curves_csv),
        ("report.md", &md),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        files.push(path);
    }
    Ok(ReportFiles {
        markdown: out.join("report.md"),
        files,
        notes,
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn sample_statistics_match_hand_computed_values() {
        // mean 5, deviations -3,-1,1,3: sum of squares 20, variance 20/3.
        let s = Sample::of(&[2.0, 4.0, 6.0, 8.0]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 5.0);
        assert!((s.std - (20.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((s.sem - (20.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-12);
        let one = Sample::of(&[3.0]);
        assert_eq!(one.mean, 3.0);
        assert!(one.sem.is_nan());
    }

    #[test]
    fn welch_p_values_match_hand_computed_values() {
        // a: mean 5, variance 2/3; b: mean 3, variance 2/3 (n = 4 each): se² = 1/6 + 1/6 = 1/3,
        // t = 2 / √(1/3) = 2√3, df = (1/3)² / (2 · (1/6)² / 3) = 6. scipy.stats.ttest_ind(a, b,
        // equal_var=False): p = 0.013399964712331042 two-sided, 0.006699982356165521 with
        // alternative="greater".
        let a = [4.0, 5.0, 6.0, 5.0];
        let b = [2.0, 3.0, 4.0, 3.0];
        let (one, two) = welch_p_values(&a, &b);
        assert!((one - 0.006_699_982_356_165_521).abs() < 1e-10, "{one}");
        assert!((two - 0.013_399_964_712_331_042).abs() < 1e-10, "{two}");
        assert!((student_t_cdf(2.0 * 3f64.sqrt(), 6.0) - (1.0 - one)).abs() < 1e-15);
        // Reversed: one-sided "better" is the other tail, two-sided the same.
        let (one_rev, two_rev) = welch_p_values(&b, &a);
        assert!((one_rev - (1.0 - one)).abs() < 1e-12);
        assert!((two_rev - two).abs() < 1e-12);
        // Degenerate samples.
        assert_eq!(welch_p_values(&[1.0, 1.0], &[1.0, 1.0]), (1.0, 1.0));
        assert_eq!(welch_p_values(&[2.0, 2.0], &[1.0, 1.0]), (0.0, 0.0));
        assert!(welch_p_values(&[2.0], &[1.0, 1.0]).0.is_nan());
    }

    #[test]
    fn published_ratios_follow_the_reference_table() {
        assert_eq!(
            published_ratio(
                Challenge::MostlyUnfeasible,
                "alp_gmm",
                Some(ExpertLevel::High)
            ),
            Some((2.8, true))
        );
        assert_eq!(
            published_ratio(Challenge::RuggedDifficulty, "adr", Some(ExpertLevel::Low)),
            Some((0.5, false))
        );
        // RIAC reads no expert knowledge here: TeachMyAgent's no-EK row.
        assert_eq!(
            published_ratio(Challenge::MostlyTrivial, "riac", None),
            Some((1.1, false))
        );
        // Setter-Solver has no no-EK row: the low one.
        assert_eq!(
            published_ratio(Challenge::VarietyOfStudents, "setter_solver", None),
            Some((1.1, true))
        );
        assert_eq!(
            published_ratio(Challenge::ForgettingStudent, "random", None),
            Some((1.0, false))
        );
        assert_eq!(published_ratio(Challenge::None, "alp_gmm", None), None);
        let (alp_gmm, starred) =
            published_ratio(Challenge::Parkour, "alp_gmm", Some(ExpertLevel::Low)).unwrap();
        assert_eq!((alp_gmm, starred), (1.56, true));
        assert_eq!(
            published_ratio(Challenge::Parkour, "random", None),
            Some((1.0, false))
        );
        assert_eq!(
            published_ratio(Challenge::Parkour, "adr", Some(ExpertLevel::High)),
            None
        );
        assert_eq!(
            published_ratio(Challenge::MostlyTrivial, "adr", Some(ExpertLevel::None)),
            None
        );
    }

    #[test]
    fn directory_names_parse() {
        assert_eq!(parse_group("random"), Some(("random".into(), None)));
        assert_eq!(
            parse_group("alp_gmm-high"),
            Some(("alp_gmm".into(), Some(ExpertLevel::High)))
        );
        assert_eq!(parse_group("report"), None);
        assert_eq!(parse_run("seed12"), Some((String::new(), 12)));
        assert_eq!(
            parse_run("small_bipedal-sac-seed3"),
            Some(("small_bipedal-sac".into(), 3))
        );
        assert_eq!(parse_run("curricula"), None);
    }
}
