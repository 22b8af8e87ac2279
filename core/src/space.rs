//! Observation and action space descriptions, mirroring `gymnasium.spaces` (Box, Discrete,
//! MultiDiscrete, Dict) closely enough that the Python bindings build the matching objects.
//! They describe and validate; they do not sample (environments and students own their RNGs).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Element type of a [`BoxSpace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 64-bit signed integer.
    I64,
    /// 8-bit unsigned integer (images).
    U8,
}

/// A (possibly unbounded) box of values with a shape, as `gymnasium.spaces.Box`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxSpace {
    shape: Vec<usize>,
    low: Vec<f64>,
    high: Vec<f64>,
    dtype: DType,
}

impl BoxSpace {
    /// A box with per-element bounds (row-major, `low.len() == product(shape)`). Bounds may be
    /// infinite but not NaN, and `low <= high`.
    ///
    /// # Errors
    /// [`Error::InvalidSpace`] for a length mismatch, [`Error::InvalidBounds`] for bad bounds.
    pub fn new(shape: Vec<usize>, low: Vec<f64>, high: Vec<f64>, dtype: DType) -> Result<Self> {
        let n: usize = shape.iter().product();
        if low.len() != n || high.len() != n {
            return Err(Error::InvalidSpace {
                reason: format!(
                    "shape {shape:?} has {n} elements but low has {} and high has {}",
                    low.len(),
                    high.len()
                ),
            });
        }
        for (i, (&l, &h)) in low.iter().zip(&high).enumerate() {
            if l.is_nan() || h.is_nan() || l > h {
                return Err(Error::InvalidBounds {
                    dim: format!("index {i}"),
                    low: l,
                    high: h,
                });
            }
        }
        Ok(Self {
            shape,
            low,
            high,
            dtype,
        })
    }

    /// A box where every element shares the same bounds.
    ///
    /// # Errors
    /// As [`BoxSpace::new`].
    pub fn uniform(shape: Vec<usize>, low: f64, high: f64, dtype: DType) -> Result<Self> {
        let n = shape.iter().product();
        Self::new(shape, vec![low; n], vec![high; n], dtype)
    }

    /// Shape of one value.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// Number of elements (product of the shape).
    pub fn len(&self) -> usize {
        self.low.len()
    }
    /// Whether the box holds zero elements.
    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }
    /// Per-element lower bounds (row-major).
    pub fn low(&self) -> &[f64] {
        &self.low
    }
    /// Per-element upper bounds (row-major).
    pub fn high(&self) -> &[f64] {
        &self.high
    }
    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Whether `value` has the right length and lies within the bounds (NaN never does).
    pub fn contains(&self, value: &[f64]) -> bool {
        value.len() == self.len()
            && value
                .iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(&v, (&l, &h))| v >= l && v <= h)
    }
}

/// A space description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Space {
    /// Continuous or integer box.
    Box(BoxSpace),
    /// `n` choices, `0..n`.
    Discrete {
        /// Number of choices (> 0).
        n: usize,
    },
    /// Several independent discrete choices, component `i` in `0..nvec[i]`.
    MultiDiscrete {
        /// Number of choices per component (each > 0).
        nvec: Vec<usize>,
    },
    /// Named sub-spaces, in a fixed order.
    Dict(Vec<(String, Space)>),
}

impl Space {
    /// A `Discrete(n)` space.
    ///
    /// # Errors
    /// [`Error::InvalidSpace`] when `n == 0`.
    pub fn discrete(n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::InvalidSpace {
                reason: "Discrete(n) needs n > 0".into(),
            });
        }
        Ok(Space::Discrete { n })
    }

    /// A `MultiDiscrete(nvec)` space.
    ///
    /// # Errors
    /// [`Error::InvalidSpace`] when `nvec` is empty or has a zero.
    pub fn multi_discrete(nvec: Vec<usize>) -> Result<Self> {
        if nvec.is_empty() || nvec.contains(&0) {
            return Err(Error::InvalidSpace {
                reason: format!(
                    "MultiDiscrete needs a non-empty nvec of positive sizes, got {nvec:?}"
                ),
            });
        }
        Ok(Space::MultiDiscrete { nvec })
    }

    /// A `Dict` space; keys must be unique.
    ///
    /// # Errors
    /// [`Error::InvalidSpace`] for a duplicate key.
    pub fn dict(entries: Vec<(String, Space)>) -> Result<Self> {
        for (i, (k, _)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(o, _)| o == k) {
                return Err(Error::InvalidSpace {
                    reason: format!("Dict key `{k}` appears twice"),
                });
            }
        }
        Ok(Space::Dict(entries))
    }

    /// The box inside, if this is a `Box` space.
    pub fn as_box(&self) -> Option<&BoxSpace> {
        match self {
            Space::Box(b) => Some(b),
            _ => None,
        }
    }

    /// Number of scalar components of one flat value (a Dict sums its entries, Discrete is 1).
    pub fn flat_len(&self) -> usize {
        match self {
            Space::Box(b) => b.len(),
            Space::Discrete { .. } => 1,
            Space::MultiDiscrete { nvec } => nvec.len(),
            Space::Dict(entries) => entries.iter().map(|(_, s)| s.flat_len()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_validates() {
        assert!(BoxSpace::uniform(vec![2, 3], -1.0, 1.0, DType::F32).is_ok());
        assert!(matches!(
            BoxSpace::new(vec![2], vec![0.0], vec![1.0, 1.0], DType::F32),
            Err(Error::InvalidSpace { .. })
        ));
        let err = BoxSpace::new(vec![2], vec![0.0, 2.0], vec![1.0, 1.0], DType::F32).unwrap_err();
        assert!(err.to_string().contains("index 1"), "{err}");
        let b = BoxSpace::uniform(vec![2], f64::NEG_INFINITY, f64::INFINITY, DType::F64).unwrap();
        assert!(b.contains(&[1e30, -5.0]));
        assert!(!b.contains(&[f64::NAN, 0.0]));
        assert!(!b.contains(&[0.0]));
    }

    #[test]
    fn discrete_and_dict() {
        assert!(Space::discrete(0).is_err());
        assert!(Space::multi_discrete(vec![3, 0]).is_err());
        let d = Space::dict(vec![
            ("a".into(), Space::discrete(4).unwrap()),
            (
                "b".into(),
                Space::Box(BoxSpace::uniform(vec![3], 0.0, 1.0, DType::F32).unwrap()),
            ),
        ])
        .unwrap();
        assert_eq!(d.flat_len(), 4);
        assert!(Space::dict(vec![
            ("a".into(), Space::discrete(1).unwrap()),
            ("a".into(), Space::discrete(1).unwrap())
        ])
        .is_err());
    }
}
