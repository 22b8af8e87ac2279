//! Choosing the expert among the classroom ([`select_expert`]) and reading its curriculum
//! ([`extract_curriculum`]).

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::classroom::{Classroom, ClassroomError, ClassroomStudent};
use crate::gmm::Gmm;
use crate::Result;

/// How AGAIN picks the classroom students it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The `k` nearest students in KC space at the pre-test epoch (Euclidean), the reference.
    #[default]
    KcNearest,
    /// One uniformly random student (the reference's `random_expert` ablation).
    Random,
    /// The `k` nearest students by their true parameters (`ground_truth_keys`): numeric keys
    /// by Euclidean distance, other keys must be equal (the reference's `use_ground_truth`).
    GroundTruth,
}

/// Who was chosen and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertChoice {
    /// Index of the expert in the classroom.
    pub expert: usize,
    /// Its name.
    pub name: String,
    /// The neighbours compared (classroom indices, nearest first; the expert alone for the
    /// random ablation).
    pub neighbours: Vec<usize>,
}

/// The inputs of a selection.
pub(crate) struct SelectionInput<'a> {
    pub selection: Selection,
    pub k: usize,
    pub portion: f64,
    pub epoch: u64,
    pub kc: &'a [f64],
    pub ground_truth_keys: &'a [String],
    pub student_params: &'a BTreeMap<String, serde_json::Value>,
}

/// Picks the expert: among the `k` nearest (or the random one), the student with the largest
/// sum of final scores; ties go to the nearer one.
///
/// # Errors
/// [`ClassroomError::KcLength`], [`ClassroomError::NoKcAtEpoch`],
/// [`ClassroomError::MissingParam`].
pub(crate) fn select_expert<R: Rng + ?Sized>(
    classroom: &Classroom,
    input: &SelectionInput<'_>,
    rng: &mut R,
) -> Result<ExpertChoice> {
    let n = classroom.students.len();
    let mut candidates: Vec<usize> = (0..n).collect();
    if input.portion < 1.0 {
        // A random subset of the classroom (partial Fisher–Yates), kept in classroom order.
        let keep = ((input.portion * n as f64).round() as usize).clamp(1, n);
        for i in 0..keep {
            let j = rng.random_range(i..n);
            candidates.swap(i, j);
        }
        candidates.truncate(keep);
        candidates.sort_unstable();
    }
    let neighbours = match input.selection {
        Selection::Random => vec![candidates[rng.random_range(0..candidates.len())]],
        Selection::KcNearest => {
            if classroom.kc_len() != input.kc.len() {
                return Err(ClassroomError::KcLength {
                    student: "new student".into(),
                    expected: classroom.kc_len(),
                    got: input.kc.len(),
                }
                .into());
            }
            let scored: Vec<(f64, usize)> = candidates
                .iter()
                .filter_map(|&i| {
                    let kc = classroom.students[i].kc_at(input.epoch)?;
                    Some((squared_distance(&kc.scores, input.kc), i))
                })
                .collect();
            if scored.is_empty() {
                return Err(ClassroomError::NoKcAtEpoch { epoch: input.epoch }.into());
            }
            nearest(scored, input.k)
        }
        Selection::GroundTruth => {
            let mut scored = Vec::new();
            for &i in &candidates {
                if let Some(d) = param_distance(
                    &classroom.students[i],
                    input.student_params,
                    input.ground_truth_keys,
                )? {
                    scored.push((d, i));
                }
            }
            if scored.is_empty() {
                // No student shares the new one's non-numeric parameters: all are as far.
                scored = candidates.iter().map(|&i| (0.0, i)).collect();
            }
            nearest(scored, input.k)
        }
    };
    let expert = neighbours
        .iter()
        .copied()
        .fold(None::<(f64, usize)>, |best, i| {
            let total: f64 = classroom.students[i].final_scores.iter().sum();
            match best {
                Some((b, _)) if b >= total => best,
                _ => Some((total, i)),
            }
        })
        .map(|(_, i)| i)
        .unwrap_or(neighbours[0]);
    Ok(ExpertChoice {
        expert,
        name: classroom.students[expert].name.clone(),
        neighbours,
    })
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The `k` smallest distances (ties by classroom index), nearest first.
fn nearest(mut scored: Vec<(f64, usize)>, k: usize) -> Vec<usize> {
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k.max(1)).map(|(_, i)| i).collect()
}

/// Squared distance over the numeric keys; `None` when a non-numeric key differs.
fn param_distance(
    student: &ClassroomStudent,
    new: &BTreeMap<String, serde_json::Value>,
    keys: &[String],
) -> Result<Option<f64>> {
    let mut total = 0.0;
    for key in keys {
        let missing = |who: &str| ClassroomError::MissingParam {
            student: who.to_string(),
            key: key.clone(),
        };
        let mine = new.get(key).ok_or_else(|| missing("new student"))?;
        let theirs = student
            .params
            .get(key)
            .ok_or_else(|| missing(&student.name))?;
        match (mine.as_f64(), theirs.as_f64()) {
            (Some(a), Some(b)) => total += (a - b) * (a - b),
            _ if mine == theirs => {}
            _ => return Ok(None),
        }
    }
    Ok(Some(total))
}

/// One step of an expert curriculum: the Gaussians of one ALP-GMM fit whose mean ALP passed the
/// threshold, and the reward that marks it as learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertStep {
    /// Episode of the expert's fit.
    pub episode: u64,
    /// The kept Gaussians over `(task, ALP)`.
    pub gmm: Gmm,
    /// Their mean ALPs (sampling priorities).
    pub alps: Vec<f64>,
    /// Mean of the expert's last returns on tasks drawn from them after the fit; `None` when it
    /// drew none (the reference's NaN, see the module docs).
    pub reward_target: Option<f64>,
}

/// The expert's curriculum: each fit's Gaussians with mean ALP above `alp_threshold` (fits
/// left empty are dropped), each with its reward target, the mean of the last `window` returns
/// after the fit on tasks drawn from a kept Gaussian.
///
/// # Errors
/// [`crate::TeacherError::GmmFit`] for a history whose Gaussians are not valid (an edited file).
pub(crate) fn extract_curriculum(
    student: &ClassroomStudent,
    alp_threshold: f64,
    window: usize,
) -> Result<Vec<ExpertStep>> {
    let mut steps = Vec::new();
    for fit in &student.history.fits {
        let kept: Vec<usize> = (0..fit.gaussians.len())
            .filter(|&g| fit.gaussians[g].mean_alp() > alp_threshold)
            .collect();
        if kept.is_empty() {
            continue;
        }
        let e = &fit.episodes;
        let recent: Vec<f64> = (0..e.len())
            .rev()
            .filter(|&i| usize::try_from(e.origins[i]).is_ok_and(|o| kept.contains(&o)))
            .take(window)
            .map(|i| f64::from(e.returns[i]))
            .collect();
        let reward_target =
            (!recent.is_empty()).then(|| recent.iter().sum::<f64>() / recent.len() as f64);
        let dim = fit.gaussians[kept[0]].mean.len();
        let gmm = Gmm::from_parts(
            dim,
            kept.iter().map(|&g| fit.gaussians[g].weight).collect(),
            kept.iter()
                .flat_map(|&g| fit.gaussians[g].mean.clone())
                .collect(),
            kept.iter()
                .flat_map(|&g| fit.gaussians[g].covariance.clone())
                .collect(),
        )?;
        steps.push(ExpertStep {
            episode: fit.episode,
            alps: kept.iter().map(|&g| fit.gaussians[g].mean_alp()).collect(),
            gmm,
            reward_target,
        });
    }
    Ok(steps)
}

/// Every Gaussian of every step as one set (the pool replay).
///
/// # Errors
/// None in practice (the parts come from valid mixtures).
pub(crate) fn pool(steps: &[ExpertStep]) -> Result<Option<ExpertStep>> {
    let Some(first) = steps.first() else {
        return Ok(None);
    };
    let dim = first.gmm.dim();
    let mut weights = Vec::new();
    let mut means = Vec::new();
    let mut covariances = Vec::new();
    let mut alps = Vec::new();
    for step in steps {
        for c in 0..step.gmm.n_components() {
            weights.push(step.gmm.weights()[c]);
            means.extend_from_slice(step.gmm.mean(c));
            covariances.extend_from_slice(step.gmm.covariance(c));
        }
        alps.extend_from_slice(&step.alps);
    }
    Ok(Some(ExpertStep {
        episode: first.episode,
        gmm: Gmm::from_parts(dim, weights, means, covariances)?,
        alps,
        reward_target: None,
    }))
}
