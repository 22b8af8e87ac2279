//! Builds a teacher from its name and a configuration: the single entry point of the CLI and
//! the Python bindings. Names are parsed once, here; unknown names list the known ones.

use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::{
    Adr, AdrConfig, Again, AgainConfig, AlpGmm, AlpGmmConfig, CovarGmm, CovarGmmConfig,
    ExpertKnowledge, ExpertLevel, GoalGan, GoalGanConfig, QwebSchedule, QwebScheduleConfig,
    RandomConfig, RandomTeacher, Result, Riac, RiacConfig, SetterSolver, SetterSolverConfig, Spdl,
    SpdlConfig, Teacher, TeacherError,
};

/// Registered teacher names, in the order of the benchmark tables.
pub const TEACHER_NAMES: [&str; 10] = [
    RandomTeacher::NAME,
    AlpGmm::NAME,
    CovarGmm::NAME,
    Riac::NAME,
    Adr::NAME,
    GoalGan::NAME,
    SetterSolver::NAME,
    Spdl::NAME,
    Again::NAME,
    QwebSchedule::NAME,
];

/// A typed teacher configuration. JSON form: `{"teacher": "alp_gmm", "config": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "teacher", content = "config", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TeacherConfig {
    /// [`RandomTeacher`].
    Random(RandomConfig),
    /// [`AlpGmm`].
    AlpGmm(AlpGmmConfig),
    /// [`CovarGmm`].
    CovarGmm(CovarGmmConfig),
    /// [`Riac`].
    Riac(RiacConfig),
    /// [`Adr`].
    Adr(AdrConfig),
    /// [`GoalGan`].
    GoalGan(GoalGanConfig),
    /// [`SetterSolver`].
    SetterSolver(SetterSolverConfig),
    /// [`Spdl`].
    Spdl(SpdlConfig),
    /// [`Again`].
    Again(AgainConfig),
    /// [`QwebSchedule`].
    QwebSchedule(QwebScheduleConfig),
}

impl TeacherConfig {
    /// The registry name of the configured teacher.
    pub fn name(&self) -> &'static str {
        match self {
            TeacherConfig::Random(_) => RandomTeacher::NAME,
            TeacherConfig::AlpGmm(_) => AlpGmm::NAME,
            TeacherConfig::CovarGmm(_) => CovarGmm::NAME,
            TeacherConfig::Riac(_) => Riac::NAME,
            TeacherConfig::Adr(_) => Adr::NAME,
            TeacherConfig::GoalGan(_) => GoalGan::NAME,
            TeacherConfig::SetterSolver(_) => SetterSolver::NAME,
            TeacherConfig::Spdl(_) => Spdl::NAME,
            TeacherConfig::Again(_) => Again::NAME,
            TeacherConfig::QwebSchedule(_) => QwebSchedule::NAME,
        }
    }

    /// The expert knowledge the teacher reads, or `None` for teachers that take none (Random,
    /// RIAC, Setter-Solver, AGAIN, QWeb's schedule).
    pub fn expert_knowledge_mut(&mut self) -> Option<&mut ExpertKnowledge> {
        match self {
            TeacherConfig::AlpGmm(c) => Some(&mut c.expert_knowledge),
            TeacherConfig::CovarGmm(c) => Some(&mut c.expert_knowledge),
            TeacherConfig::Adr(c) => Some(&mut c.expert_knowledge),
            TeacherConfig::GoalGan(c) => Some(&mut c.expert_knowledge),
            TeacherConfig::Spdl(c) => Some(&mut c.expert_knowledge),
            TeacherConfig::Random(_)
            | TeacherConfig::Riac(_)
            | TeacherConfig::SetterSolver(_)
            | TeacherConfig::Again(_)
            | TeacherConfig::QwebSchedule(_) => None,
        }
    }

    /// The expert-knowledge level the teacher gets when none is asked for: `high` for ADR,
    /// which cannot run without thresholds and starts from the easy task as in its paper
    /// (TeachMyAgent's `original` setting), `low` for GoalGAN, which cannot run without a
    /// success threshold (TeachMyAgent's minimum for it), `none` for every other teacher
    /// (TeachMyAgent's benchmark baseline).
    pub fn default_expert_level(&self) -> ExpertLevel {
        match self {
            TeacherConfig::Adr(_) => ExpertLevel::High,
            TeacherConfig::GoalGan(_) => ExpertLevel::Low,
            _ => ExpertLevel::None,
        }
    }

    /// Parses the config of teacher `name` from JSON; `null` or `{}` gives the defaults, missing
    /// fields take their defaults, unknown fields are refused.
    ///
    /// # Errors
    /// [`TeacherError::UnknownTeacher`] listing the known names, or [`TeacherError::Core`]
    /// (`InvalidConfig`) with serde's message for malformed JSON.
    pub fn from_json(name: &str, config: serde_json::Value) -> Result<Self> {
        let config = if config.is_null() {
            serde_json::json!({})
        } else {
            config
        };
        fn parse<T: serde::de::DeserializeOwned>(name: &str, v: serde_json::Value) -> Result<T> {
            serde_json::from_value(v).map_err(|e| TeacherError::config(name, e.to_string()))
        }
        Ok(match name {
            "random" => TeacherConfig::Random(parse(name, config)?),
            "alp_gmm" => TeacherConfig::AlpGmm(parse(name, config)?),
            "covar_gmm" => TeacherConfig::CovarGmm(parse(name, config)?),
            "riac" => TeacherConfig::Riac(parse(name, config)?),
            "adr" => TeacherConfig::Adr(parse(name, config)?),
            "goal_gan" => TeacherConfig::GoalGan(parse(name, config)?),
            "setter_solver" => TeacherConfig::SetterSolver(parse(name, config)?),
            "spdl" => TeacherConfig::Spdl(parse(name, config)?),
            "again" => TeacherConfig::Again(parse(name, config)?),
            "qweb_schedule" => TeacherConfig::QwebSchedule(parse(name, config)?),
            _ => {
                return Err(TeacherError::UnknownTeacher {
                    name: name.to_string(),
                    known: TEACHER_NAMES.join(", "),
                })
            }
        })
    }

    /// Builds the teacher.
    ///
    /// # Errors
    /// As the teacher's constructor (invalid config, missing expert knowledge).
    pub fn build(self, task_space: TaskSpace, seed: u64) -> Result<Box<dyn Teacher>> {
        Ok(match self {
            TeacherConfig::Random(c) => Box::new(RandomTeacher::new(task_space, seed, c)?),
            TeacherConfig::AlpGmm(c) => Box::new(AlpGmm::new(task_space, seed, c)?),
            TeacherConfig::CovarGmm(c) => Box::new(CovarGmm::new(task_space, seed, c)?),
            TeacherConfig::Riac(c) => Box::new(Riac::new(task_space, seed, c)?),
            TeacherConfig::Adr(c) => Box::new(Adr::new(task_space, seed, c)?),
            TeacherConfig::GoalGan(c) => Box::new(GoalGan::new(task_space, seed, c)?),
            TeacherConfig::SetterSolver(c) => Box::new(SetterSolver::new(task_space, seed, c)?),
            TeacherConfig::Spdl(c) => Box::new(Spdl::new(task_space, seed, c)?),
            TeacherConfig::Again(c) => Box::new(Again::new(task_space, seed, c)?),
            TeacherConfig::QwebSchedule(c) => Box::new(QwebSchedule::new(task_space, seed, c)?),
        })
    }
}

/// Builds teacher `name` over `task_space`, seeded with `seed`, from a JSON config (`null` for
/// the defaults).
///
/// ```
/// use teachgym_teachers::{build_teacher, TaskSpace};
/// let space = TaskSpace::from_bounds(&[0.0, 0.0], &[3.0, 6.0]).unwrap();
/// let mut teacher = build_teacher("alp_gmm", space, 42, serde_json::json!({"fit_rate": 100})).unwrap();
/// let task = teacher.sample_task();
/// assert!(teacher.task_space().contains(&task));
/// assert!(build_teacher("alp-gmm", teacher.task_space().clone(), 0, serde_json::Value::Null).is_err());
/// ```
///
/// # Errors
/// [`TeacherError::UnknownTeacher`], [`TeacherError::Core`] for a bad config,
/// [`TeacherError::MissingExpertKnowledge`] for ADR without thresholds or GoalGAN without a
/// success threshold.
pub fn build_teacher(
    name: &str,
    task_space: TaskSpace,
    seed: u64,
    config: serde_json::Value,
) -> Result<Box<dyn Teacher>> {
    TeacherConfig::from_json(name, config)?.build(task_space, seed)
}

/// As [`build_teacher`], over an unnamed task space (`dim_0`, `dim_1`, ...) built from bound
/// arrays, the way the reference teachers are constructed from `mins` / `maxs`.
///
/// # Errors
/// [`TeacherError::Core`] for empty, mismatched, non-finite or inverted bounds; otherwise as
/// [`build_teacher`].
pub fn build_teacher_from_bounds(
    name: &str,
    low: &[f64],
    high: &[f64],
    seed: u64,
    config: serde_json::Value,
) -> Result<Box<dyn Teacher>> {
    let space = TaskSpace::from_bounds(low, high)?;
    build_teacher(name, space, seed, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented defaults are TeachMyAgent's benchmark values; presets are teachDeepRL's.
    #[test]
    fn defaults_are_the_documented_values() {
        let alp = AlpGmmConfig::default();
        assert_eq!(
            (alp.fit_rate, alp.min_k, alp.max_k, alp.random_task_ratio),
            (150, 2, 9, 0.05)
        );
        assert_eq!(alp.bootstrap_episodes(), 150);
        let tdrl = AlpGmmConfig::teach_deep_rl();
        assert_eq!(
            (tdrl.fit_rate, tdrl.max_k, tdrl.random_task_ratio),
            (250, 10, 0.2)
        );
        let covar = CovarGmmConfig::default();
        assert_eq!(
            (
                covar.fit_rate,
                covar.max_k,
                covar.random_task_ratio,
                covar.absolute_lp
            ),
            (150, 14, 0.1, false)
        );
        let riac = RiacConfig::default();
        assert_eq!(
            (
                riac.max_region_size,
                riac.nb_split_attempts,
                riac.min_dims_range_ratio
            ),
            (150, 75, 0.1)
        );
        assert_eq!(RiacConfig::teach_deep_rl().min_dims_range_ratio, 1.0 / 15.0);
        let adr = AdrConfig::default();
        assert_eq!(
            (adr.boundary_sampling_p, adr.step_size, adr.queue_len),
            (0.7, 0.1, 10)
        );
        let gmm = crate::GmmConfig::default();
        assert_eq!(
            (gmm.tol, gmm.reg_covar, gmm.max_iter, gmm.n_init),
            (1e-3, 1e-6, 100, 1)
        );
        // `{}` in JSON is the same as Default.
        assert_eq!(
            TeacherConfig::from_json("alp_gmm", serde_json::json!({})).unwrap(),
            TeacherConfig::AlpGmm(AlpGmmConfig::default())
        );
    }

    #[test]
    fn builds_every_name_and_refuses_unknown_ones() {
        let space = TaskSpace::from_bounds(&[0.0], &[1.0]).unwrap();
        for name in TEACHER_NAMES {
            let cfg = match name {
                "adr" => {
                    serde_json::json!({"expert_knowledge": {"level": "low", "success_threshold": 1.0,
                    "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}})
                }
                // Pretraining skipped: this test is about the registry, not the GAN.
                "goal_gan" => {
                    serde_json::json!({"use_pretrained_samples": false,
                    "expert_knowledge": {"level": "low", "success_threshold": 1.0,
                    "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}}})
                }
                "again" => serde_json::json!({"classroom": crate::Classroom::minimal(&space, 4)}),
                "qweb_schedule" => serde_json::json!({"dimensions": ["dim_0"]}),
                _ => serde_json::Value::Null,
            };
            let t = build_teacher(name, space.clone(), 0, cfg).unwrap();
            assert_eq!(t.name(), name);
        }
        match build_teacher("goalgan", space.clone(), 0, serde_json::Value::Null) {
            Err(TeacherError::UnknownTeacher { name, known }) => {
                assert_eq!(name, "goalgan");
                assert!(
                    known.contains("alp_gmm")
                        && known.contains("goal_gan")
                        && known.contains("setter_solver")
                );
            }
            other => panic!("{:?}", other.map(|t| t.name())),
        }
        // Typos in field names are errors, not silently ignored.
        assert!(matches!(
            build_teacher(
                "alp_gmm",
                space.clone(),
                0,
                serde_json::json!({"fitrate": 3})
            ),
            Err(TeacherError::Core(
                teachgym_core::Error::InvalidConfig { .. }
            ))
        ));
        for name in ["adr", "goal_gan"] {
            assert!(matches!(
                build_teacher(name, space.clone(), 0, serde_json::Value::Null),
                Err(TeacherError::MissingExpertKnowledge { .. })
            ));
        }
        // QWeb's schedule moves the web-form's goal_coverage and cold_start by default; a space
        // without them is a typed error naming the field.
        match build_teacher("qweb_schedule", space.clone(), 0, serde_json::Value::Null) {
            Err(TeacherError::Core(teachgym_core::Error::InvalidConfig { field, .. })) => {
                assert_eq!(field, "qweb_schedule.dimensions")
            }
            other => panic!("{:?}", other.map(|t| t.name())),
        }
        assert!(matches!(
            build_teacher("again", space.clone(), 0, serde_json::Value::Null),
            Err(TeacherError::Classroom(crate::ClassroomError::Missing))
        ));
        let typed: TeacherConfig =
            serde_json::from_str(r#"{"teacher":"riac","config":{"max_region_size":50}}"#).unwrap();
        assert_eq!(typed.name(), "riac");
    }

    /// Issue 22, case 2: sizes had no upper limit, and `fit_rate`, `queue_len` and the like
    /// ended in capacity-overflow panics or an allocation abort; each now has a cap and a
    /// typed error naming the field and the value.
    #[test]
    fn sizes_above_their_caps_are_typed_errors() {
        let space = TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
        let adr_knowledge = serde_json::json!({"level": "low", "success_threshold": 1.0,
            "reward_thresholds": {"min_reward": 0.0, "max_reward": 1.0}});
        let huge = usize::MAX;
        for (name, config, field) in [
            ("alp_gmm", serde_json::json!({"fit_rate": huge}), "fit_rate"),
            (
                "covar_gmm",
                serde_json::json!({"fit_rate": 1u64 << 40}),
                "fit_rate",
            ),
            ("alp_gmm", serde_json::json!({"max_k": 1_000_000}), "max_k"),
            (
                "alp_gmm",
                serde_json::json!({"gmm": {"max_iter": huge}}),
                "max_iter",
            ),
            (
                "covar_gmm",
                serde_json::json!({"gmm": {"n_init": 1_000_000}}),
                "n_init",
            ),
            (
                "riac",
                serde_json::json!({"max_region_size": huge}),
                "max_region_size",
            ),
            (
                "riac",
                serde_json::json!({"alp_window_size": huge}),
                "alp_window_size",
            ),
            (
                "riac",
                serde_json::json!({"nb_split_attempts": huge}),
                "nb_split_attempts",
            ),
            (
                "adr",
                serde_json::json!({"queue_len": huge, "expert_knowledge": adr_knowledge}),
                "queue_len",
            ),
            (
                "qweb_schedule",
                serde_json::json!({"dimensions": ["dim_0"], "success_window": huge}),
                "success_window",
            ),
        ] {
            let err = build_teacher(name, space.clone(), 0, config)
                .err()
                .unwrap_or_else(|| panic!("{name} accepted a huge {field}"));
            let message = err.to_string();
            assert!(message.contains(field), "{name}: {message}");
        }
        // At the caps, they build.
        let at_caps = serde_json::json!({"fit_rate": crate::MAX_GMM_FIT_RATE,
            "max_k": crate::MAX_GMM_K});
        build_teacher("alp_gmm", space, 0, at_caps).unwrap();
    }
}
