//! Task spaces: the box of named, documented difficulty parameters a teacher samples from.
//!
//! A task is a plain `&[f64]` in dimension order. Environments turn it into terrain, teachers only
//! ever see the vector and the bounds.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One named dimension of a [`TaskSpace`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDim {
    /// Identifier, e.g. `stump_height`. Unique within a space.
    pub name: String,
    /// Lower bound (inclusive), in the dimension's unit.
    pub low: f64,
    /// Upper bound (inclusive), in the dimension's unit. `low == high` fixes the dimension.
    pub high: f64,
    /// What the dimension controls and in which unit.
    pub doc: String,
}

impl TaskDim {
    /// A dimension named `name` over `[low, high]`, with a doc string.
    pub fn new(name: impl Into<String>, low: f64, high: f64, doc: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            low,
            high,
            doc: doc.into(),
        }
    }

    /// `high - low`.
    pub fn range(&self) -> f64 {
        self.high - self.low
    }
}

/// An ordered list of bounded, named dimensions.
///
/// ```
/// use teachgym_core::{TaskDim, TaskSpace};
/// let space = TaskSpace::new(vec![
///     TaskDim::new("stump_height", 0.0, 3.0, "mean stump height (TERRAIN_STEP units)"),
///     TaskDim::new("obstacle_spacing", 0.0, 6.0, "gap between stumps (m)"),
/// ]).unwrap();
/// assert!(space.contains(&[1.0, 2.0]));
/// assert_eq!(space.to_unit(&[1.5, 6.0]).unwrap(), vec![0.5, 1.0]);
/// assert!(space.validate(&[4.0, 2.0]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<TaskDim>", into = "Vec<TaskDim>")]
pub struct TaskSpace {
    dims: Vec<TaskDim>,
}

impl TryFrom<Vec<TaskDim>> for TaskSpace {
    type Error = Error;
    fn try_from(dims: Vec<TaskDim>) -> Result<Self> {
        Self::new(dims)
    }
}

impl From<TaskSpace> for Vec<TaskDim> {
    fn from(space: TaskSpace) -> Self {
        space.dims
    }
}

impl TaskSpace {
    /// Builds a space, checking that it has at least one dimension, that names are unique and
    /// non-empty, and that every bound is finite with `low <= high`.
    ///
    /// # Errors
    /// [`Error::InvalidTaskSpace`] or [`Error::InvalidBounds`] naming the bad dimension.
    pub fn new(dims: Vec<TaskDim>) -> Result<Self> {
        if dims.is_empty() {
            return Err(Error::InvalidTaskSpace {
                reason: "a task space needs at least one dimension".into(),
            });
        }
        for (i, d) in dims.iter().enumerate() {
            if d.name.is_empty() {
                return Err(Error::InvalidTaskSpace {
                    reason: format!("dimension {i} has an empty name"),
                });
            }
            if dims[..i].iter().any(|o| o.name == d.name) {
                return Err(Error::InvalidTaskSpace {
                    reason: format!("dimension name `{}` appears twice", d.name),
                });
            }
            check_bounds(&d.name, d.low, d.high)?;
        }
        Ok(Self { dims })
    }

    /// Builds an unnamed space (`dim_0`, `dim_1`, ...) from bound arrays, as used when a teacher is
    /// constructed from `low`/`high` alone.
    ///
    /// # Errors
    /// As [`TaskSpace::new`], plus a length mismatch between `low` and `high`.
    pub fn from_bounds(low: &[f64], high: &[f64]) -> Result<Self> {
        if low.len() != high.len() {
            return Err(Error::InvalidTaskSpace {
                reason: format!(
                    "low has {} components but high has {}",
                    low.len(),
                    high.len()
                ),
            });
        }
        Self::new(
            low.iter()
                .zip(high)
                .enumerate()
                .map(|(i, (&l, &h))| TaskDim::new(format!("dim_{i}"), l, h, ""))
                .collect(),
        )
    }

    /// Returns a copy with the bounds of dimension `name` replaced (the benchmark's challenges
    /// widen `stump_height` to `[0, 9]` or `[-3, 3]` this way).
    ///
    /// # Errors
    /// [`Error::UnknownDimension`] or [`Error::InvalidBounds`].
    pub fn with_bounds(mut self, name: &str, low: f64, high: f64) -> Result<Self> {
        let idx = self.index_of(name)?;
        check_bounds(name, low, high)?;
        self.dims[idx].low = low;
        self.dims[idx].high = high;
        Ok(self)
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.dims.len()
    }

    /// The dimensions, in order.
    pub fn dims(&self) -> &[TaskDim] {
        &self.dims
    }

    /// Whether `other` has the same dimensions (names, order and bounds); the doc strings may
    /// differ (a space rebuilt from names and bounds, as the Python bindings do, has none).
    pub fn same_bounds(&self, other: &TaskSpace) -> bool {
        self.dims.len() == other.dims.len()
            && self
                .dims
                .iter()
                .zip(&other.dims)
                .all(|(a, b)| a.name == b.name && a.low == b.low && a.high == b.high)
    }

    /// Dimension names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.dims.iter().map(|d| d.name.as_str()).collect()
    }

    /// Lower bounds, in order.
    pub fn low(&self) -> Vec<f64> {
        self.dims.iter().map(|d| d.low).collect()
    }

    /// Upper bounds, in order.
    pub fn high(&self) -> Vec<f64> {
        self.dims.iter().map(|d| d.high).collect()
    }

    /// Centre of the box.
    pub fn center(&self) -> Vec<f64> {
        // Halves first: `low + high` can overflow where the width does not.
        self.dims
            .iter()
            .map(|d| 0.5 * d.low + 0.5 * d.high)
            .collect()
    }

    /// Index of the dimension called `name`.
    ///
    /// # Errors
    /// [`Error::UnknownDimension`] listing the known names.
    pub fn index_of(&self, name: &str) -> Result<usize> {
        self.dims
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| Error::UnknownDimension {
                name: name.to_string(),
                known: self.names().join(", "),
            })
    }

    /// Whether `task` has the right length and every component is finite and within bounds.
    pub fn contains(&self, task: &[f64]) -> bool {
        self.validate(task).is_ok()
    }

    /// Checks `task` against the space.
    ///
    /// # Errors
    /// [`Error::TaskDimension`] for a wrong length, [`Error::TaskOutOfBounds`] naming the first
    /// offending dimension (NaN counts as out of bounds).
    pub fn validate(&self, task: &[f64]) -> Result<()> {
        if task.len() != self.dims.len() {
            return Err(Error::TaskDimension {
                expected: self.dims.len(),
                got: task.len(),
                names: self.names().join(", "),
            });
        }
        for (d, &v) in self.dims.iter().zip(task) {
            // Written so that NaN fails the test.
            if !(v >= d.low && v <= d.high) {
                return Err(Error::TaskOutOfBounds {
                    dim: d.name.clone(),
                    value: v,
                    low: d.low,
                    high: d.high,
                });
            }
        }
        Ok(())
    }

    /// A task drawn uniformly from the box.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        self.dims
            .iter()
            .map(|d| d.low + rng.random::<f64>() * d.range())
            .collect()
    }

    /// Clamps each component into its bounds (NaN becomes the lower bound).
    pub fn clip(&self, task: &[f64]) -> Vec<f64> {
        self.dims
            .iter()
            .zip(task)
            .map(|(d, &v)| {
                if v.is_nan() {
                    d.low
                } else {
                    v.clamp(d.low, d.high)
                }
            })
            .collect()
    }

    /// Maps a task to `[0, 1]^d` (a fixed dimension, `low == high`, maps to 0).
    ///
    /// # Errors
    /// [`Error::TaskDimension`] for a wrong length.
    pub fn to_unit(&self, task: &[f64]) -> Result<Vec<f64>> {
        self.check_len(task)?;
        Ok(self
            .dims
            .iter()
            .zip(task)
            .map(|(d, &v)| {
                if d.range() > 0.0 {
                    (v - d.low) / d.range()
                } else {
                    0.0
                }
            })
            .collect())
    }

    /// Maps a point of `[0, 1]^d` back to the task space.
    ///
    /// # Errors
    /// [`Error::TaskDimension`] for a wrong length.
    pub fn from_unit(&self, unit: &[f64]) -> Result<Vec<f64>> {
        self.check_len(unit)?;
        Ok(self
            .dims
            .iter()
            .zip(unit)
            .map(|(d, &u)| d.low + u * d.range())
            .collect())
    }

    fn check_len(&self, task: &[f64]) -> Result<()> {
        if task.len() == self.dims.len() {
            Ok(())
        } else {
            Err(Error::TaskDimension {
                expected: self.dims.len(),
                got: task.len(),
                names: self.names().join(", "),
            })
        }
    }
}

pub(crate) fn check_bounds(dim: &str, low: f64, high: f64) -> Result<()> {
    if low.is_finite() && high.is_finite() && low <= high {
        // Teachers scale, centre and draw by `high − low`: it must be a number too.
        if (high - low).is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidTaskSpace {
                reason: format!(
                    "`{dim}` spans [{low}, {high}], wider than the largest f64 (high - low \
                     overflows)"
                ),
            })
        }
    } else {
        Err(Error::InvalidBounds {
            dim: dim.to_string(),
            low,
            high,
        })
    }
}

/// What an environment tells an expert about itself, in raw task and return units: the
/// source of the values the teachers' expert-knowledge levels hand out (mastery threshold,
/// reward thresholds, an initial distribution over easy tasks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvPrior {
    /// Return from which an episode counts as mastered (Stump Tracks: 230).
    pub success_return: f64,
    /// Return of an episode that achieves nothing (Stump Tracks: 0, standing still).
    pub no_progress_return: f64,
    /// The easiest task of the task space (Stump Tracks: no stumps, widest spacing), the
    /// centre of the `high` level's initial distribution.
    pub easy_task: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn stumps() -> TaskSpace {
        TaskSpace::new(vec![
            TaskDim::new("stump_height", 0.0, 3.0, ""),
            TaskDim::new("obstacle_spacing", 0.0, 6.0, ""),
        ])
        .unwrap()
    }

    #[test]
    fn rejects_bad_spaces() {
        assert!(matches!(
            TaskSpace::new(vec![]),
            Err(Error::InvalidTaskSpace { .. })
        ));
        let err = TaskSpace::new(vec![TaskDim::new("a", 1.0, 0.0, "")]).unwrap_err();
        assert!(matches!(err, Error::InvalidBounds { ref dim, .. } if dim == "a"));
        assert!(TaskSpace::new(vec![TaskDim::new("a", f64::NAN, 0.0, "")]).is_err());
        assert!(TaskSpace::new(vec![TaskDim::new("a", 0.0, f64::INFINITY, "")]).is_err());
        assert!(TaskSpace::new(vec![
            TaskDim::new("a", 0.0, 1.0, ""),
            TaskDim::new("a", 0.0, 1.0, "")
        ])
        .is_err());
        assert!(TaskSpace::from_bounds(&[0.0], &[1.0, 2.0]).is_err());
        // Finite bounds whose width overflows.
        let err = TaskSpace::from_bounds(&[-f64::MAX], &[f64::MAX]).unwrap_err();
        assert!(
            err.to_string().contains("wider than the largest f64"),
            "{err}"
        );
        // Bounds near the top of f64 whose sum overflows: the centre is still theirs.
        let s = TaskSpace::from_bounds(&[1e300], &[f64::MAX]).unwrap();
        assert!(s.center()[0] > 1e300 && s.center()[0] < f64::MAX);
        // A fixed dimension is allowed.
        assert!(TaskSpace::new(vec![TaskDim::new("w", 0.25, 0.25, "")]).is_ok());
    }

    #[test]
    fn validate_names_the_dimension() {
        let s = stumps();
        let err = s.validate(&[1.0, 7.0]).unwrap_err();
        assert_eq!(
            err,
            Error::TaskOutOfBounds {
                dim: "obstacle_spacing".into(),
                value: 7.0,
                low: 0.0,
                high: 6.0
            }
        );
        assert!(err.to_string().contains("obstacle_spacing"));
        assert!(matches!(
            s.validate(&[1.0]),
            Err(Error::TaskDimension {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(s.validate(&[f64::NAN, 1.0]).is_err());
        assert!(s.validate(&[3.0, 0.0]).is_ok());
    }

    #[test]
    fn samples_stay_in_bounds_and_are_seeded() {
        let s = stumps();
        let mut a = rand_pcg::Pcg64::seed_from_u64(3);
        let mut b = rand_pcg::Pcg64::seed_from_u64(3);
        for _ in 0..1000 {
            let t = s.sample(&mut a);
            assert!(s.contains(&t));
            assert_eq!(t, s.sample(&mut b));
        }
    }

    #[test]
    fn unit_round_trip() {
        let s = stumps();
        let t = [1.2, 4.5];
        let u = s.to_unit(&t).unwrap();
        assert!((u[0] - 0.4).abs() < 1e-12 && (u[1] - 0.75).abs() < 1e-12);
        let back = s.from_unit(&u).unwrap();
        for (x, y) in back.iter().zip(t) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn with_bounds_and_serde() {
        let s = stumps().with_bounds("stump_height", -3.0, 3.0).unwrap();
        assert_eq!(s.low(), vec![-3.0, 0.0]);
        assert!(matches!(
            stumps().with_bounds("nope", 0.0, 1.0),
            Err(Error::UnknownDimension { .. })
        ));
        let json = serde_json::to_string(&s).unwrap();
        let back: TaskSpace = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        // Deserialisation validates.
        let bad = json.replace("-3.0", "9.0");
        assert!(serde_json::from_str::<TaskSpace>(&bad).is_err());
    }

    #[test]
    fn same_bounds_ignores_docs_only() {
        let space = stumps();
        let documented = TaskSpace::new(
            space
                .dims()
                .iter()
                .map(|d| TaskDim::new(d.name.clone(), d.low, d.high, "in metres"))
                .collect(),
        )
        .unwrap();
        assert_ne!(space, documented);
        assert!(space.same_bounds(&documented));
        assert!(!space.same_bounds(&space.clone().with_bounds("stump_height", 0.0, 9.0).unwrap()));
        assert!(!space.same_bounds(&TaskSpace::from_bounds(&[0.0], &[3.0]).unwrap()));
    }

    #[test]
    fn clip_handles_nan() {
        assert_eq!(stumps().clip(&[f64::NAN, 9.0]), vec![0.0, 6.0]);
    }
}
