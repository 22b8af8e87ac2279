//! The classroom: finished ALP-GMM students, each with its parameters, its knowledge-component
//! (KC) vectors, its final scores and its ALP-GMM history. A run writes one
//! [`ClassroomEntry`]; [`Classroom::build`] assembles entries under an [`EntryRule`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::alp_gmm::{AlpGmmFit, AlpGmmHistory, FitEpisodes, FitGaussian};

/// Version of the classroom and classroom-entry files.
pub const CLASSROOM_FORMAT_VERSION: u32 = 1;
/// Default entry threshold on a Gaussian's mean ALP (the reference's `alp_thr`, on the `[0, 1]`
/// return scale of teachDeepRL / meta-ACL).
pub const DEFAULT_ENTRY_ALP_THRESHOLD: f64 = 0.2;

/// What can go wrong with a classroom. Each variant carries the offending values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClassroomError {
    /// AGAIN was configured without a classroom.
    #[error(
        "teacher `again` needs a classroom: set its config key `classroom` to a file written by \
         `teachgym classroom build` (or an inline classroom object)"
    )]
    Missing,
    /// A classroom or entry file could not be read or written.
    #[error("classroom file `{path}`: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A classroom or entry file is malformed (JSON, version, inconsistent contents).
    #[error("classroom file `{path}` is corrupt: {reason}")]
    Corrupt {
        /// The file (or `<inline>`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A student was trained on another task space than the classroom's (or the teacher's).
    #[error("student `{student}` was trained on task space [{got}], not [{expected}]")]
    OtherTaskSpace {
        /// Its name.
        student: String,
        /// The expected dimension names, comma separated.
        expected: String,
        /// Its dimension names, comma separated.
        got: String,
    },
    /// No student passed the entry rule.
    #[error(
        "no student enters the classroom: none of the {considered} has a Gaussian with mean ALP \
         above {alp_threshold} in its ALP-GMM history (lower --alp-threshold, or --keep-all)"
    )]
    Empty {
        /// Students considered.
        considered: usize,
        /// The entry threshold.
        alp_threshold: f64,
    },
    /// A KC vector (or final score vector) has another length than the others (another test set).
    #[error("student `{student}` has a KC vector of {got} scores, expected {expected} (another test set?)")]
    KcLength {
        /// Its name (`new student` for the one AGAIN teaches).
        student: String,
        /// The length expected.
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// No classroom student has a KC vector at the pre-test epoch.
    #[error(
        "no classroom student has a KC vector at epoch {epoch} (their runs evaluated fewer \
         times); lower pretrain_epochs"
    )]
    NoKcAtEpoch {
        /// The epoch asked for.
        epoch: u64,
    },
    /// A ground-truth key is missing from a student's parameters.
    #[error("student `{student}` has no parameter `{key}` (ground_truth_keys)")]
    MissingParam {
        /// Its name (`new student` for `student_params` of the AGAIN config).
        student: String,
        /// The key.
        key: String,
    },
}

/// The test results of a student at one evaluation: its knowledge-component vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KcVector {
    /// Training epochs done (evaluations after training began, from 1).
    pub epoch: u64,
    /// Training episodes done.
    pub episodes: u64,
    /// Score per test task in `[0, 1]`.
    pub scores: Vec<f64>,
}

/// One finished student of a classroom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassroomStudent {
    /// A name (by default its run directory).
    pub name: String,
    /// What its run varied (body, leg size, network width, seed, ...), for the ground-truth
    /// ablation and for the record.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Its KC vector at each evaluation after training began, in order.
    pub kc_vectors: Vec<KcVector>,
    /// Its scores at the last evaluation (the expert ranking sums them).
    pub final_scores: Vec<f64>,
    /// Its ALP-GMM curriculum.
    pub history: AlpGmmHistory,
}

impl ClassroomStudent {
    /// Its KC vector at `epoch`, if it was evaluated then.
    pub fn kc_at(&self, epoch: u64) -> Option<&KcVector> {
        self.kc_vectors.iter().find(|kc| kc.epoch == epoch)
    }

    /// The largest mean ALP of any Gaussian of its history (`-inf` without fits).
    pub fn max_mean_alp(&self) -> f64 {
        self.history
            .fits
            .iter()
            .flat_map(|f| &f.gaussians)
            .map(FitGaussian::mean_alp)
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Checks lengths and values; `dim` is the task dimension.
    fn check(&self, dim: usize, path: &str) -> Result<(), ClassroomError> {
        let corrupt = |reason: String| ClassroomError::Corrupt {
            path: path.to_string(),
            reason: format!("student `{}`: {reason}", self.name),
        };
        let n = self.final_scores.len();
        for kc in &self.kc_vectors {
            if kc.scores.len() != n {
                return Err(ClassroomError::KcLength {
                    student: self.name.clone(),
                    expected: n,
                    got: kc.scores.len(),
                });
            }
        }
        if self
            .kc_vectors
            .iter()
            .flat_map(|kc| &kc.scores)
            .chain(&self.final_scores)
            .any(|v| !v.is_finite())
        {
            return Err(corrupt("a score is not finite".into()));
        }
        for (i, fit) in self.history.fits.iter().enumerate() {
            let d = dim + 1;
            let bad_gaussian = fit.gaussians.iter().any(|g| {
                g.mean.len() != d
                    || g.covariance.len() != d * d
                    || !g.weight.is_finite()
                    || g.mean.iter().chain(&g.covariance).any(|v| !v.is_finite())
            });
            let e = &fit.episodes;
            let k = fit.gaussians.len();
            if fit.gaussians.is_empty()
                || bad_gaussian
                || e.tasks.len() != e.returns.len() * dim
                || e.origins.len() != e.returns.len()
                || e.origins.iter().any(|&o| o < -1 || o as i64 >= k as i64)
            {
                return Err(corrupt(format!("ALP-GMM fit {i} is inconsistent")));
            }
        }
        Ok(())
    }
}

/// What a finished ALP-GMM run records for a classroom (`classroom_entry.json` in its run
/// directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassroomEntry {
    /// [`CLASSROOM_FORMAT_VERSION`].
    pub format_version: u32,
    /// The task space it was trained on.
    pub task_space: TaskSpace,
    /// The student.
    pub student: ClassroomStudent,
}

impl ClassroomEntry {
    /// An entry of the current format.
    pub fn new(task_space: TaskSpace, student: ClassroomStudent) -> Self {
        Self {
            format_version: CLASSROOM_FORMAT_VERSION,
            task_space,
            student,
        }
    }

    /// Reads an entry file.
    ///
    /// # Errors
    /// [`ClassroomError::Io`] or [`ClassroomError::Corrupt`].
    pub fn load(path: &Path) -> Result<Self, ClassroomError> {
        let entry: Self = read_json(path)?;
        let name = path.display().to_string();
        check_version(entry.format_version, &name)?;
        entry.student.check(entry.task_space.dim(), &name)?;
        Ok(entry)
    }

    /// Writes the entry as JSON.
    ///
    /// # Errors
    /// [`ClassroomError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), ClassroomError> {
        write_json(path, self)
    }
}

/// Who enters a classroom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntryRule {
    /// A student enters only if its history has a Gaussian with mean ALP above this. Default:
    /// [`DEFAULT_ENTRY_ALP_THRESHOLD`].
    pub alp_threshold: f64,
    /// Keep every student (the reference's `keep_no_progress`). Default: false.
    pub keep_all: bool,
}

impl Default for EntryRule {
    fn default() -> Self {
        Self {
            alp_threshold: DEFAULT_ENTRY_ALP_THRESHOLD,
            keep_all: false,
        }
    }
}

impl EntryRule {
    /// Whether `student` enters.
    pub fn admits(&self, student: &ClassroomStudent) -> bool {
        self.keep_all || student.max_mean_alp() > self.alp_threshold
    }
}

/// A store of finished students on one task space (see [`crate::again`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classroom {
    /// [`CLASSROOM_FORMAT_VERSION`].
    pub format_version: u32,
    /// The task space every student was trained on.
    pub task_space: TaskSpace,
    /// The students, in the order they were given.
    pub students: Vec<ClassroomStudent>,
}

impl Classroom {
    /// Assembles `entries` under `rule`; returns the classroom and the names of the students
    /// left out.
    ///
    /// # Errors
    /// [`ClassroomError::OtherTaskSpace`] when entries disagree on the task space,
    /// [`ClassroomError::KcLength`] when their test sets differ in size,
    /// [`ClassroomError::Empty`] when nobody enters (or no entry is given).
    pub fn build(
        entries: Vec<ClassroomEntry>,
        rule: &EntryRule,
    ) -> Result<(Self, Vec<String>), ClassroomError> {
        let considered = entries.len();
        let mut entries = entries.into_iter();
        let first = entries.next().ok_or(ClassroomError::Empty {
            considered,
            alp_threshold: rule.alp_threshold,
        })?;
        let task_space = first.task_space.clone();
        let mut students = Vec::new();
        let mut left_out = Vec::new();
        for entry in std::iter::once(first).chain(entries) {
            if !entry.task_space.same_bounds(&task_space) {
                return Err(ClassroomError::OtherTaskSpace {
                    student: entry.student.name,
                    expected: task_space.names().join(", "),
                    got: entry.task_space.names().join(", "),
                });
            }
            if rule.admits(&entry.student) {
                students.push(entry.student);
            } else {
                left_out.push(entry.student.name);
            }
        }
        if students.is_empty() {
            return Err(ClassroomError::Empty {
                considered,
                alp_threshold: rule.alp_threshold,
            });
        }
        let classroom = Self {
            format_version: CLASSROOM_FORMAT_VERSION,
            task_space,
            students,
        };
        classroom.check("<built>")?;
        Ok((classroom, left_out))
    }

    /// Reads a classroom file.
    ///
    /// # Errors
    /// [`ClassroomError::Io`], [`ClassroomError::Corrupt`], [`ClassroomError::KcLength`],
    /// [`ClassroomError::Empty`].
    pub fn load(path: &Path) -> Result<Self, ClassroomError> {
        let classroom: Self = read_json(path)?;
        classroom.check(&path.display().to_string())?;
        Ok(classroom)
    }

    /// Writes the classroom as JSON.
    ///
    /// # Errors
    /// [`ClassroomError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), ClassroomError> {
        write_json(path, self)
    }

    /// Checks version, lengths and values (`path` names the source in errors).
    ///
    /// # Errors
    /// As [`Classroom::load`].
    pub fn check(&self, path: &str) -> Result<(), ClassroomError> {
        check_version(self.format_version, path)?;
        if self.students.is_empty() {
            return Err(ClassroomError::Empty {
                considered: 0,
                alp_threshold: DEFAULT_ENTRY_ALP_THRESHOLD,
            });
        }
        let n = self.students[0].final_scores.len();
        for s in &self.students {
            s.check(self.task_space.dim(), path)?;
            if s.final_scores.len() != n {
                return Err(ClassroomError::KcLength {
                    student: s.name.clone(),
                    expected: n,
                    got: s.final_scores.len(),
                });
            }
        }
        Ok(())
    }

    /// Number of test tasks of the students' KC vectors.
    pub fn kc_len(&self) -> usize {
        self.students.first().map_or(0, |s| s.final_scores.len())
    }

    /// A one-student classroom whose curriculum is a single Gaussian on the lower corner of
    /// `space` (mean ALP 0.5), with KC vectors of `kc_len` zeros at epochs 1 to 3 and final
    /// scores of ones: for tests of the teacher contract, not for learning.
    pub fn minimal(space: &TaskSpace, kc_len: usize) -> Self {
        let d = space.dim();
        let mut mean: Vec<f64> = space
            .low()
            .iter()
            .zip(space.high())
            .map(|(l, h)| l + 0.1 * (h - l))
            .collect();
        mean.push(0.5);
        let mut covariance = vec![0.0; (d + 1) * (d + 1)];
        for (i, (l, h)) in space.low().iter().zip(space.high()).enumerate() {
            covariance[i * (d + 1) + i] = (0.05 * (h - l)).powi(2).max(1e-6);
        }
        covariance[d * (d + 1) + d] = 0.01;
        let fit = AlpGmmFit {
            episode: 250,
            gaussians: vec![FitGaussian {
                weight: 1.0,
                mean: mean.clone(),
                covariance,
            }],
            episodes: FitEpisodes {
                tasks: mean[..d].iter().map(|&x| x as f32).collect(),
                returns: vec![0.5],
                origins: vec![0],
            },
        };
        Self {
            format_version: CLASSROOM_FORMAT_VERSION,
            task_space: space.clone(),
            students: vec![ClassroomStudent {
                name: "minimal".into(),
                params: BTreeMap::new(),
                kc_vectors: (1..=3)
                    .map(|epoch| KcVector {
                        epoch,
                        episodes: 250 * epoch,
                        scores: vec![0.0; kc_len],
                    })
                    .collect(),
                final_scores: vec![1.0; kc_len],
                history: AlpGmmHistory { fits: vec![fit] },
            }],
        }
    }
}

fn check_version(version: u32, path: &str) -> Result<(), ClassroomError> {
    if version == CLASSROOM_FORMAT_VERSION {
        Ok(())
    } else {
        Err(ClassroomError::Corrupt {
            path: path.to_string(),
            reason: format!(
                "format_version {version} is not supported (this build reads version \
                 {CLASSROOM_FORMAT_VERSION})"
            ),
        })
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ClassroomError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ClassroomError::Io {
        path: name.clone(),
        reason: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ClassroomError::Corrupt {
        path: name,
        reason: e.to_string(),
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ClassroomError> {
    let io = |e: String| ClassroomError::Io {
        path: path.display().to_string(),
        reason: e,
    };
    let file = std::fs::File::create(path).map_err(|e| io(e.to_string()))?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, value).map_err(|e| io(e.to_string()))?;
    std::io::Write::flush(&mut writer).map_err(|e| io(e.to_string()))
}
