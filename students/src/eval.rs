//! TeachMyAgent's evaluation protocol: a fixed test set of tasks per environment, played with
//! the deterministic policy; the metric is the share of test tasks mastered (walkers: return
//! above 230, i.e. the env's `success` flag).
//!
//! A test set is a [`TestSet`]: the `k^d` grid over the task-space bounds (Stump Tracks' 10×10),
//! or `n` tasks drawn uniformly from a fixed seed; CSV files (a header of dimension names, one
//! task per row; files from pandas or a spreadsheet load too) save and load them. [`evaluate`] plays test task `j` with reset seed
//! `seed + j` on a pool of env copies; the result depends neither on the number of copies nor
//! on the number of threads.

use std::path::Path;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{Env, EpisodeSummary, TaskSpace};

use crate::error::{Result, StudentError};
use crate::student::Student;

/// Default number of points per dimension of a grid test set (TeachMyAgent: 10×10 for Stump
/// Tracks).
pub const DEFAULT_GRID_POINTS: usize = 10;
/// Default size of a random test set (TeachMyAgent: 100 tasks).
pub const DEFAULT_RANDOM_TEST_TASKS: usize = 100;
/// Default seed of random test sets, so every run of an env shares the same set.
pub const DEFAULT_TEST_SET_SEED: u64 = 42;

/// A fixed list of test tasks over a task space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestSet {
    names: Vec<String>,
    tasks: Vec<Vec<f64>>,
}

impl TestSet {
    /// Validates every task against `space`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for an empty set, [`StudentError::Env`] for a task of the
    /// wrong length or out of bounds (naming the task and dimension).
    pub fn new(space: &TaskSpace, tasks: Vec<Vec<f64>>) -> Result<Self> {
        if tasks.is_empty() {
            return Err(StudentError::InvalidConfig {
                field: "test_set",
                reason: "a test set needs at least one task".into(),
            });
        }
        for task in &tasks {
            space.validate(task)?;
        }
        Ok(TestSet {
            names: space.names().iter().map(|s| s.to_string()).collect(),
            tasks,
        })
    }

    /// The `points^d` grid including both bounds of every dimension, last dimension fastest.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for `points` < 2 or more than 100 000 tasks.
    pub fn grid(space: &TaskSpace, points: usize) -> Result<Self> {
        let d = space.dim();
        let total = (points as u128).checked_pow(d as u32).unwrap_or(u128::MAX);
        if points < 2 || total > 100_000 {
            return Err(StudentError::InvalidConfig {
                field: "grid_points",
                reason: format!(
                    "need ≥ 2 points per dimension and ≤ 100000 tasks, got {points}^{d}"
                ),
            });
        }
        let (low, high) = (space.low(), space.high());
        let mut tasks = Vec::with_capacity(total as usize);
        for flat in 0..total as usize {
            let mut rest = flat;
            let mut task = vec![0.0; d];
            for k in (0..d).rev() {
                let idx = rest % points;
                rest /= points;
                let frac = idx as f64 / (points - 1) as f64;
                task[k] = if idx == points - 1 {
                    high[k]
                } else {
                    low[k] + frac * (high[k] - low[k])
                };
            }
            tasks.push(task);
        }
        Self::new(space, tasks)
    }

    /// `n` tasks drawn uniformly over `space` from `seed`.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for `n` = 0.
    pub fn random(space: &TaskSpace, n: usize, seed: u64) -> Result<Self> {
        let mut rng = Pcg64::seed_from_u64(seed);
        Self::new(space, (0..n).map(|_| space.sample(&mut rng)).collect())
    }

    /// The protocol's default for `space`: the 10×10 grid for 2-dimensional spaces (Stump
    /// Tracks), otherwise 100 tasks from [`DEFAULT_TEST_SET_SEED`].
    ///
    /// # Errors
    /// As [`TestSet::grid`] and [`TestSet::random`].
    pub fn default_for(space: &TaskSpace) -> Result<Self> {
        if space.dim() == 2 {
            Self::grid(space, DEFAULT_GRID_POINTS)
        } else {
            Self::random(space, DEFAULT_RANDOM_TEST_TASKS, DEFAULT_TEST_SET_SEED)
        }
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Vec<f64>] {
        &self.tasks
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Always false (a test set has at least one task).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// CSV text: a header of dimension names, then one task per row, `\n` line ends, fields
    /// quoted only where CSV requires it (never a number), and values in their shortest
    /// round-trip decimal form (`{:?}`), so loading gives the same bits.
    pub fn to_csv(&self) -> String {
        // Flexible: a deserialised set is not re-validated, and a ragged one is written as is.
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        let rows = std::iter::once(self.names.clone()).chain(
            self.tasks
                .iter()
                .map(|task| task.iter().map(|v| format!("{v:?}")).collect()),
        );
        for row in rows {
            // A flexible writer into memory has no way to fail.
            writer.write_record(&row).expect("writing CSV to memory");
        }
        let bytes = writer.into_inner().expect("writing CSV to memory");
        String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
    }

    /// Parses CSV text written by [`TestSet::to_csv`], by hand, by pandas (`index=False`) or by
    /// a spreadsheet, and validates it against `space`. The header must name the space's
    /// dimensions in order. Fields may be quoted and surrounded by spaces, lines may end in `\n`
    /// or `\r\n`, the last one may lack its line end, a UTF-8 byte-order mark is skipped, and
    /// blank rows (no value in any field) are ignored.
    ///
    /// A leading index column (pandas' default `index=True`: an unnamed first header field) is
    /// refused with a message saying so, rather than dropped: its values would be read as tasks
    /// if the header were edited, and dropping data silently hides a mistake.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] for an empty file, a header that does not name the
    /// dimensions (naming the first unexpected or missing column), no task row, or a row that
    /// is not a valid task (a value that is not a number, the wrong number of values, a value
    /// out of bounds or not finite), naming its file line and its data row (1-based, header and
    /// blank rows not counted).
    pub fn from_csv(space: &TaskSpace, text: &str) -> Result<Self> {
        Self::parse_csv(space, text, "the CSV text")
    }

    /// [`TestSet::from_csv`], with `source` (a path or "the CSV text") named in every error.
    fn parse_csv(space: &TaskSpace, text: &str, source: &str) -> Result<Self> {
        let bad = |reason: String| StudentError::InvalidConfig {
            field: "test_set",
            reason,
        };
        // Excel's "CSV UTF-8" starts with a byte-order mark, which would stick to the first name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            // The header is read as a record, so that its errors name its line too.
            .has_headers(false)
            // Rows of the wrong length get the task-space message below, naming the dimensions.
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut lines = LineCounter::new(text);
        let mut rows = reader.records().filter_map(|record| match record {
            Ok(r) if r.iter().all(str::is_empty) => None,
            Ok(r) => {
                let start = r.position().map_or(0, |p| p.byte());
                Some(Ok((lines.record_line(start), r)))
            }
            Err(e) => Some(Err(bad(format!("{source}: {e}")))),
        });
        let (header_line, header) = rows
            .next()
            .ok_or_else(|| bad(format!("{source} is empty")))??;
        let header: Vec<&str> = header.iter().collect();
        let names = space.names();
        if header != names {
            return Err(bad(format!(
                "the header (line {header_line}) of {source} must name the task dimensions \
                 {names:?} in order, got {header:?}: {}",
                header_mismatch(&header, &names)
            )));
        }
        let mut tasks = Vec::new();
        for row in rows {
            let (line, record) = row?;
            let at = || format!("line {line} (data row {}) of {source}", tasks.len() + 1);
            let task = record
                .iter()
                .enumerate()
                .map(|(column, value)| {
                    value.parse::<f64>().map_err(|_| {
                        bad(format!(
                            "{}: {value:?} in column {} is not a number",
                            at(),
                            column + 1
                        ))
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            space
                .validate(&task)
                .map_err(|e| bad(format!("{}: {e}", at())))?;
            tasks.push(task);
        }
        if tasks.is_empty() {
            return Err(bad(format!("{source} has a header but no task row")));
        }
        Self::new(space, tasks)
    }

    /// Writes [`TestSet::to_csv`] to `path`.
    ///
    /// # Errors
    /// [`StudentError::Io`] naming the path.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_csv()).map_err(|e| StudentError::io(path, e))
    }

    /// Reads a CSV test set from `path` (any CSV [`TestSet::from_csv`] accepts).
    ///
    /// # Errors
    /// [`StudentError::Io`] naming the path, or the errors of [`TestSet::from_csv`], naming the
    /// path instead of "the CSV text".
    pub fn load(space: &TaskSpace, path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| StudentError::io(path, e))?;
        Self::parse_csv(space, &text, &path.display().to_string())
    }
}

/// File lines of CSV records, for error messages. The csv crate's own line numbers do not count
/// `\r\n` line ends nor blank lines, so lines are counted here from the records' byte offsets
/// (`\n`, `\r\n` and a lone `\r` each end one line).
struct LineCounter<'a> {
    text: &'a [u8],
    /// Bytes before `offset` are counted.
    offset: usize,
    /// 1-based line of `offset`.
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record whose reading began at byte `start`; records come in file order.
    fn record_line(&mut self, start: u64) -> u64 {
        // The reading of a record starts where the previous one ended, before the blank lines
        // (and the `\n` of a `\r\n`) that precede it.
        let mut start = usize::try_from(start).map_or(self.text.len(), |s| s.max(self.offset));
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        for i in self.offset..start.min(self.text.len()) {
            let byte = self.text[i];
            if byte == b'\n' || (byte == b'\r' && self.text.get(i + 1) != Some(&b'\n')) {
                self.line += 1;
            }
        }
        self.offset = start;
        self.line
    }
}

/// Why a CSV header differs from the dimension names: the first unexpected or missing column,
/// and a hint when it looks like the index column pandas writes by default.
fn header_mismatch(header: &[&str], names: &[&str]) -> String {
    let is_index = |h: &str| h.is_empty() || h.starts_with("Unnamed: ");
    if header.len() == names.len() + 1 && header[1..] == *names && is_index(header[0]) {
        return format!(
            "column 1 ({:?}) is unnamed, as the row index pandas writes by default; save the file \
             with `to_csv(path, index=False)` or delete that column",
            header[0]
        );
    }
    let column = header.iter().zip(names).take_while(|(h, n)| h == n).count();
    match (header.get(column), names.get(column)) {
        (Some(h), Some(n)) => format!("column {} is {h:?} where {n:?} was expected", column + 1),
        (Some(h), None) => format!("column {} ({h:?}) is not a task dimension", column + 1),
        (None, Some(n)) => format!("column {} ({n:?}) is missing", column + 1),
        // Not reached: equal lengths and an equal prefix of that length are equal headers.
        (None, None) => "the columns differ".into(),
    }
}

/// Result of evaluating a policy on a test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Env steps of training when it was made.
    pub global_step: u64,
    /// Percentage of test tasks whose episode succeeded, in [0, 100].
    pub mastered_percent: f64,
    /// Mean episode return over the test tasks.
    pub mean_return: f64,
    /// Return per test task, in test-set order.
    pub returns: Vec<f64>,
}

impl Evaluation {
    /// Summarises per-task episode summaries.
    pub fn from_summaries(global_step: u64, summaries: &[EpisodeSummary]) -> Self {
        let n = summaries.len().max(1) as f64;
        let mastered = summaries.iter().filter(|s| s.success).count() as f64;
        let returns: Vec<f64> = summaries.iter().map(|s| s.episode_return).collect();
        Evaluation {
            global_step,
            mastered_percent: 100.0 * mastered / n,
            mean_return: returns.iter().sum::<f64>() / n,
            returns,
        }
    }
}

/// Plays one greedy episode per test task: task `j` with reset seed `seed + j`, spread over the
/// env copies in `envs` (stepped in parallel on `threads` workers, 0 = one per core). Returns
/// the summaries in test-set order; they depend on neither `envs.len()` nor `threads`.
///
/// # Errors
/// [`StudentError::InvalidConfig`] for no env, and env or student errors.
pub fn evaluate<E, S>(
    student: &mut S,
    envs: &mut [E],
    test_set: &TestSet,
    seed: u64,
    threads: usize,
) -> Result<Vec<EpisodeSummary>>
where
    E: Env + Send,
    E::Obs: Send,
    S: Student<E>,
{
    use rayon::prelude::*;
    if envs.is_empty() {
        return Err(StudentError::InvalidConfig {
            field: "eval_envs",
            reason: "evaluation needs at least one env".into(),
        });
    }
    let (pool, _) = crate::vec_env::worker_pool(threads, envs.len())?;
    let mut summaries = Vec::with_capacity(test_set.len());
    for (chunk_index, chunk) in test_set.tasks().chunks(envs.len()).enumerate() {
        let first = chunk_index * envs.len();
        let active_envs = &mut envs[..chunk.len()];
        let resets: Vec<Result<E::Obs>> = pool.install(|| {
            active_envs
                .par_iter_mut()
                .zip(chunk.par_iter())
                .enumerate()
                .map(|(j, (env, task))| {
                    Ok(env
                        .reset(Some(seed.wrapping_add((first + j) as u64)), task)?
                        .0)
                })
                .collect()
        });
        let mut obs: Vec<Option<E::Obs>> = resets
            .into_iter()
            .map(|r| r.map(Some))
            .collect::<Result<_>>()?;
        let mut done: Vec<Option<EpisodeSummary>> = vec![None; chunk.len()];
        while done.iter().any(Option::is_none) {
            let mut actions: Vec<Option<S::Action>> = Vec::with_capacity(chunk.len());
            for (o, env) in obs.iter().zip(active_envs.iter()) {
                actions.push(match o {
                    Some(o) => Some(student.act_greedy(o, env.action_mask().as_deref())?),
                    None => None,
                });
            }
            let steps: Vec<Option<Result<teachgym_core::Step<E::Obs>>>> = pool.install(|| {
                active_envs
                    .par_iter_mut()
                    .zip(actions.par_iter())
                    .map(|(env, action)| {
                        action
                            .as_ref()
                            .map(|a| env.step(std::borrow::Borrow::borrow(a)).map_err(Into::into))
                    })
                    .collect()
            });
            for (j, step) in steps.into_iter().enumerate() {
                let Some(step) = step else { continue };
                let step = step?;
                if let Some(summary) = step.info.episode {
                    done[j] = Some(summary);
                    obs[j] = None;
                } else {
                    obs[j] = Some(step.obs);
                }
            }
        }
        summaries.extend(done.into_iter().flatten());
    }
    Ok(summaries)
}

/// [`evaluate`] on the one env `env` with `tasks` as the test set, on the calling thread: the
/// body of the students' single-env `evaluate` methods.
pub(crate) fn evaluate_single_env<'a, E, S>(
    student: &mut S,
    env: &'a mut E,
    tasks: &[Vec<f64>],
    seed: u64,
) -> Result<Vec<EpisodeSummary>>
where
    E: Env + Send,
    E::Obs: Send,
    S: Student<crate::trainer::BorrowedEnv<'a, E>>,
{
    let test_set = TestSet::new(env.task_space(), tasks.to_vec())?;
    evaluate(
        student,
        &mut [crate::trainer::BorrowedEnv(env)],
        &test_set,
        seed,
        1,
    )
}

#[cfg(test)]
mod tests {
    use teachgym_core::TaskDim;

    use super::*;

    fn stump_space() -> TaskSpace {
        TaskSpace::new(vec![
            TaskDim::new("stump_height", 0.0, 3.0, ""),
            TaskDim::new("obstacle_spacing", 0.0, 6.0, ""),
        ])
        .unwrap()
    }

    /// The format `to_csv` wrote before it used the csv crate; runs' `test_set.csv` must not change.
    fn historic_csv(set: &TestSet) -> String {
        let mut out = set.names.join(",");
        out.push('\n');
        for task in &set.tasks {
            let row: Vec<String> = task.iter().map(|v| format!("{v:?}")).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    fn message(err: StudentError) -> String {
        match err {
            StudentError::InvalidConfig { field, reason } => {
                assert_eq!(field, "test_set");
                reason
            }
            other => panic!("expected InvalidConfig, got {other}"),
        }
    }

    #[test]
    fn written_csv_is_byte_identical_to_the_historic_format() {
        let space = stump_space();
        let grid = TestSet::default_for(&space).unwrap();
        let text = grid.to_csv();
        assert_eq!(text, historic_csv(&grid));
        assert!(
            text.starts_with("stump_height,obstacle_spacing\n0.0,0.0\n0.0,0.6666666666666666\n")
        );
        assert!(text.ends_with("\n3.0,6.0\n"));
        let space3 = TaskSpace::from_bounds(&[-1.0, 0.0, 1e-9], &[1.0, 1e6, 2e-9]).unwrap();
        let random = TestSet::default_for(&space3).unwrap();
        assert_eq!(random.to_csv(), historic_csv(&random));
        assert_eq!(
            TestSet::from_csv(&space3, &random.to_csv()).unwrap(),
            random
        );
    }

    #[test]
    fn a_pandas_or_spreadsheet_file_loads() {
        let space = stump_space();
        let expected = TestSet::new(&space, vec![vec![0.5, 1.0], vec![3.0, 0.25]]).unwrap();
        for text in [
            // pandas `to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\r\n")`.
            "\"stump_height\",\"obstacle_spacing\"\r\n\"0.5\",\"1.0\"\r\n\"3.0\",\"0.25\"\r\n",
            // A spreadsheet: byte-order mark, CRLF, no final line end.
            "\u{feff}stump_height,obstacle_spacing\r\n0.5,1\r\n3,0.25",
            // By hand: spaces after commas, blank lines, an empty spreadsheet row.
            "stump_height, obstacle_spacing\n\n 0.5 , 1.0\n,\n3.0, 0.25\n\n",
        ] {
            assert_eq!(
                TestSet::from_csv(&space, text).unwrap(),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_malformed_row_names_its_file_line_and_data_row() {
        let space = stump_space();
        let path = std::env::temp_dir().join(format!("teachgym_eval_{}.csv", std::process::id()));
        // Line 4 is data row 2: the blank line 2 is not a row.
        std::fs::write(
            &path,
            "stump_height,obstacle_spacing\r\n\r\n1.0,2.0\r\n1.0,abc\r\n",
        )
        .unwrap();
        let err = message(TestSet::load(&space, &path).unwrap_err());
        std::fs::remove_file(&path).unwrap();
        assert!(
            err.contains(&format!("line 4 (data row 2) of {}", path.display())),
            "{err}"
        );
        assert!(err.contains("\"abc\" in column 2 is not a number"), "{err}");
        let err =
            message(TestSet::from_csv(&space, "stump_height,obstacle_spacing\n7,1\n").unwrap_err());
        assert!(
            err.starts_with("line 2 (data row 1) of the CSV text: "),
            "{err}"
        );
        assert!(
            err.contains("`stump_height` = 7 is outside its bounds [0, 3]"),
            "{err}"
        );
        // File lines under every line-end style, blank and whitespace-only lines, and a quoted
        // field spanning two lines (the csv crate's own line numbers get these wrong).
        let header = "stump_height,obstacle_spacing";
        for (text, line, row) in [
            (format!("{header}\n\n\n1,2\n1,x\n"), 5, 2),
            (format!("{header}\r\n1,2\r\n\r\n  \r\n1,x"), 5, 2),
            (format!("{header}\r1,2\r1,x\r"), 3, 2),
            (format!("\n{header}\n\"x\ny\",2\n"), 3, 1),
            (format!("{header}\n1,2\n1,\"2\n\"\n1,x\n"), 5, 3),
        ] {
            let err = message(TestSet::from_csv(&space, &text).unwrap_err());
            let at = format!("line {line} (data row {row}) of the CSV text");
            assert!(err.starts_with(&at), "{text:?}: {err}");
        }
    }

    #[test]
    fn an_index_column_is_refused_with_a_hint() {
        let space = stump_space();
        // pandas' default `to_csv(path)` (index=True), and the same file re-saved by pandas.
        for header in [
            ",stump_height,obstacle_spacing",
            "Unnamed: 0,stump_height,obstacle_spacing",
        ] {
            let text = format!("{header}\n0,0.5,1.0\n1,3.0,0.25\n");
            let err = message(TestSet::from_csv(&space, &text).unwrap_err());
            assert!(err.contains("column 1"), "{err}");
            assert!(err.contains("index=False"), "{err}");
        }
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let space = stump_space();
        let names = "stump_height,obstacle_spacing";
        for (text, reason) in [
            (String::new(), "the CSV text is empty"),
            ("\n \n".into(), "the CSV text is empty"),
            (format!("{names}\n"), "has a header but no task row"),
            (
                "stump_height,spacing\n1,2\n".into(),
                "column 2 is \"spacing\" where \"obstacle_spacing\" was expected",
            ),
            (
                "stump_height\n1\n".into(),
                "column 2 (\"obstacle_spacing\") is missing",
            ),
            (
                format!("{names},extra\n1,2,3\n"),
                "column 3 (\"extra\") is not a task dimension",
            ),
            (
                format!("{names}\n1\n"),
                "task has 1 components but the task space has 2",
            ),
            (format!("{names}\n1,2,3\n"), "task has 3 components"),
            (
                format!("{names}\n1,NaN\n"),
                "`obstacle_spacing` = NaN is outside its bounds",
            ),
            (
                format!("{names}\ninf,1\n"),
                "`stump_height` = inf is outside its bounds",
            ),
            (format!("{names}\n1,\n"), "\"\" in column 2 is not a number"),
        ] {
            let err = message(TestSet::from_csv(&space, &text).unwrap_err());
            assert!(err.contains(reason), "{text:?}: {err}");
        }
    }
}
