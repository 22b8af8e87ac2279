//! MetaQWeb, QWeb's meta-trainer without an expert (webnav.md §1.6, Algorithm 3): the QWeb
//! DQN trains on tasks it makes itself. For every episode, RRND fills a freshly generated form
//! at random and its final state becomes the goal `G`; the frozen [`Inet`] reads `G` and gives
//! one value per instruction key, the instruction `I`; the episode is the task `(I, G)`, shaped
//! with the potential `Φ(s)` = share of `I`'s fields whose widget holds its value in `G`
//! (Ng's form, from the env's `shaping` settings). All of that happens inside
//! [`MetaWebFormEnv`], which drops each generated form's own instruction before anything reads
//! it and has no oracle; the training copies are of that type only, so the loop cannot reach
//! an expert. The teacher chooses the task vectors the forms are generated from.
//!
//! Evaluation is the usual one: the greedy policy on a fixed test set of [`WebFormEnv`] forms
//! with their real instructions (success = every named field right at Submit), which the
//! training never sees.
//!
//! [`train_inet`] is the first stage: INET's DQN on the instruction-generation env of the same
//! forms, then its greedy accuracy.
//!
//! A run continues exactly from [`MetaQweb::checkpoint`] through [`MetaQweb::resume`] with the
//! same frozen INET: every generated task is a function of its episode's seed and task vector,
//! so the running episodes are rebuilt by replaying their actions, as in [`crate::Trainer`].

use serde::{Deserialize, Serialize};
use teachgym_envs::webform::MetaWebFormEnv;
use teachgym_envs::{WebFormConfig, WebFormEnv};
use teachgym_teachers::Teacher;

use crate::error::{Result, StudentError};
use crate::eval::{evaluate, Evaluation, TestSet};
use crate::inet::{Inet, InetConfig, InetTrainer};
use crate::qweb::QwebDqnAgent;
use crate::student::{Student, TrainClock};
use crate::trainer::{
    restore_student, TrainerCheckpoint, TrainerConfig, TRAINER_CHECKPOINT_VERSION,
};
use crate::vec_env::{EpisodeRecord, TeacherTasks, VecEnv};

/// Default INET training budget: 20 000 answers (keys answered in the instruction env).
pub const DEFAULT_INET_ANSWERS: u64 = 20_000;
/// Default number of forms of INET's accuracy check: 200.
pub const DEFAULT_INET_EVAL_FORMS: usize = 200;
/// Seed offset of INET's accuracy-check forms, away from the training forms' seeds.
const INET_EVAL_SEED: u64 = 2_000_000;

/// The `[meta]` section: INET and its training before MetaQWeb. The QWeb student's
/// hyper-parameters are `[qweb]`'s, the loop's `[trainer]`'s, the forms `[webform]`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetaQwebConfig {
    /// INET's network and DQN hyper-parameters.
    pub inet: InetConfig,
    /// INET's training budget in answers (≥ 1). Default [`DEFAULT_INET_ANSWERS`].
    pub inet_answers: u64,
    /// Forms of INET's greedy accuracy check after training (≥ 1). Default
    /// [`DEFAULT_INET_EVAL_FORMS`].
    pub inet_eval_forms: usize,
}

impl Default for MetaQwebConfig {
    fn default() -> Self {
        MetaQwebConfig {
            inet: InetConfig::default(),
            inet_answers: DEFAULT_INET_ANSWERS,
            inet_eval_forms: DEFAULT_INET_EVAL_FORMS,
        }
    }
}

impl MetaQwebConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        self.inet.validate()?;
        if self.inet_answers == 0 {
            return Err(StudentError::InvalidConfig {
                field: "inet_answers",
                reason: "must be ≥ 1, got 0".into(),
            });
        }
        if self.inet_eval_forms == 0 {
            return Err(StudentError::InvalidConfig {
                field: "inet_eval_forms",
                reason: "must be ≥ 1, got 0".into(),
            });
        }
        Ok(())
    }
}

/// INET's accuracy after training: the share of keys its greedy policy answers right, and
/// a uniform policy's on the same forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InetAccuracy {
    /// Answers given in training.
    pub answers: u64,
    /// Greedy accuracy in [0, 1].
    pub greedy: f64,
    /// A uniform element and attribute's accuracy (chance level).
    pub chance: f64,
}

/// Trains INET on the instruction-generation env of `env_config`'s forms for
/// `config.inet_answers` answers, checking its accuracy after each of `checkpoints` (answer
/// counts; those outside `1..inet_answers` and repeats are skipped) and at the end; returns the
/// frozen network and the accuracies.
///
/// # Errors
/// A bad configuration, network or env errors.
pub fn train_inet(
    config: &MetaQwebConfig,
    env_config: &WebFormConfig,
    seed: u64,
    checkpoints: &[u64],
) -> Result<(Inet, Vec<InetAccuracy>)> {
    config.validate()?;
    let mut trainer = InetTrainer::new(config.inet.clone(), env_config.clone(), seed)?;
    let mut marks: Vec<u64> = checkpoints
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < config.inet_answers)
        .collect();
    marks.push(config.inet_answers);
    marks.sort_unstable();
    marks.dedup();
    let chance =
        trainer
            .inet()
            .accuracy(env_config, config.inet_eval_forms, INET_EVAL_SEED, true)?;
    let mut accuracies = Vec::new();
    for mark in marks {
        trainer.train(mark.saturating_sub(trainer.answers()))?;
        let greedy =
            trainer
                .inet()
                .accuracy(env_config, config.inet_eval_forms, INET_EVAL_SEED, false)?;
        accuracies.push(InetAccuracy {
            answers: trainer.answers(),
            greedy,
            chance,
        });
    }
    Ok((trainer.inet().clone(), accuracies))
}

/// The MetaQWeb loop (see the module docs): QWeb DQN iterations on [`MetaWebFormEnv`] copies,
/// evaluations on [`WebFormEnv`] copies every `eval_every` env steps and at the end.
pub struct MetaQweb {
    config: TrainerConfig,
    student: QwebDqnAgent,
    envs: VecEnv<MetaWebFormEnv, usize>,
    eval_envs: Vec<WebFormEnv>,
    test_set: TestSet,
    next_eval: u64,
    evaluated_at: Option<u64>,
}

impl MetaQweb {
    /// `config.num_envs` training copies instructed by clones of the frozen `inet`, as many
    /// evaluation copies, tasks from `teacher`, episodes seeded from `seed`.
    ///
    /// # Errors
    /// A bad configuration, a student that does not fit the forms' caps, env errors.
    pub fn new(
        config: TrainerConfig,
        env_config: &WebFormConfig,
        inet: &Inet,
        student: QwebDqnAgent,
        teacher: Box<dyn Teacher>,
        test_set: TestSet,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        let (envs, eval_envs) = Self::make_envs(&config, env_config, inet, &student)?;
        let envs = VecEnv::new(envs, seed, config.threads, Box::new(TeacherTasks(teacher)))?;
        Ok(MetaQweb {
            next_eval: if config.eval_at_start {
                0
            } else {
                config.eval_every
            },
            config,
            student,
            envs,
            eval_envs,
            test_set,
            evaluated_at: None,
        })
    }

    /// Continues a run from `checkpoint`, with the run's own configuration, forms, frozen
    /// `inet` and test set; `teacher` must be a fresh teacher of the checkpoint's kind on the
    /// same task space (its state is replaced by the checkpoint's).
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`], [`StudentError::CorruptCheckpoint`] for
    /// a checkpoint that does not fit (another budget, env count or forms), and the errors of
    /// [`MetaQweb::new`].
    pub fn resume(
        config: TrainerConfig,
        env_config: &WebFormConfig,
        inet: &Inet,
        checkpoint: TrainerCheckpoint<usize>,
        mut teacher: Box<dyn Teacher>,
        test_set: TestSet,
    ) -> Result<Self> {
        config.validate()?;
        let student: QwebDqnAgent =
            restore_student::<MetaWebFormEnv, _>(&config, &checkpoint, &mut *teacher)?;
        let (envs, eval_envs) = Self::make_envs(&config, env_config, inet, &student)?;
        let envs = VecEnv::restore(
            envs,
            config.threads,
            checkpoint.envs,
            Box::new(TeacherTasks(teacher)),
        )?;
        Ok(MetaQweb {
            config,
            student,
            envs,
            eval_envs,
            test_set,
            next_eval: checkpoint.next_eval,
            evaluated_at: checkpoint.last_eval_step,
        })
    }

    /// The training copies (instructed by clones of `inet`) and as many evaluation copies.
    fn make_envs(
        config: &TrainerConfig,
        env_config: &WebFormConfig,
        inet: &Inet,
        student: &QwebDqnAgent,
    ) -> Result<(Vec<MetaWebFormEnv>, Vec<WebFormEnv>)> {
        let mut envs = Vec::with_capacity(config.num_envs);
        let mut eval_envs = Vec::with_capacity(config.num_envs);
        for _ in 0..config.num_envs {
            let env = MetaWebFormEnv::new(env_config.clone(), Box::new(inet.clone()))?;
            Student::<MetaWebFormEnv>::check_env(student, &env)?;
            envs.push(env);
            eval_envs.push(WebFormEnv::new(env_config.clone())?);
        }
        Ok((envs, eval_envs))
    }

    /// The state to continue this run from with [`MetaQweb::resume`] (the student's replay
    /// buffer included), in the [`crate::Trainer`]'s format; the fields MetaQWeb has no use for
    /// (epochs, episodes counted, student restarts, knowledge-component vectors) stay at zero
    /// and empty.
    ///
    /// # Errors
    /// A teacher that cannot serialise its state.
    pub fn checkpoint(&self) -> Result<TrainerCheckpoint<usize>> {
        Ok(TrainerCheckpoint {
            format_version: TRAINER_CHECKPOINT_VERSION,
            student: Student::<MetaWebFormEnv>::to_json(&self.student),
            teacher: self.envs.task_source().save_state()?,
            envs: self.envs.state(),
            next_eval: self.next_eval,
            last_eval_step: self.evaluated_at,
            epoch: 0,
            episodes: 0,
            student_restarts: 0,
            kc_vectors: Vec::new(),
        })
    }

    /// Env steps taken.
    pub fn global_step(&self) -> u64 {
        self.envs.global_step()
    }

    /// Whether the budget is spent and the final evaluation made.
    pub fn is_done(&self) -> bool {
        self.global_step() >= self.config.total_steps
            && self.evaluated_at == Some(self.global_step())
    }

    /// The student.
    pub fn student(&self) -> &QwebDqnAgent {
        &self.student
    }

    /// The training episodes finished since the last call (generated tasks: their success is
    /// the generated goal's).
    pub fn drain_episodes(&mut self) -> Vec<EpisodeRecord> {
        self.envs.drain_finished()
    }

    /// The greedy policy on the test set now.
    ///
    /// # Errors
    /// Student or env errors.
    pub fn evaluate_now(&mut self) -> Result<Evaluation> {
        let summaries = evaluate(
            &mut self.student,
            &mut self.eval_envs,
            &self.test_set,
            self.config.eval_seed,
            self.config.threads,
        )?;
        self.evaluated_at = Some(self.global_step());
        Ok(Evaluation::from_summaries(self.global_step(), &summaries))
    }

    /// Evaluates if one is due, else trains one iteration; returns the evaluation made, if
    /// any. Call until [`MetaQweb::is_done`].
    ///
    /// # Errors
    /// Student, env or teacher errors.
    pub fn step(&mut self) -> Result<Option<Evaluation>> {
        let step = self.global_step();
        let budget_spent = step >= self.config.total_steps;
        if (step >= self.next_eval || budget_spent) && self.evaluated_at != Some(step) {
            while self.next_eval <= step {
                self.next_eval += self.config.eval_every;
            }
            return self.evaluate_now().map(Some);
        }
        if budget_spent {
            return Ok(None);
        }
        let clock = TrainClock {
            global_step: step,
            total_steps: self.config.total_steps,
        };
        Student::<MetaWebFormEnv>::train_iteration(&mut self.student, &mut self.envs, clock)?;
        Ok(None)
    }

    /// Runs to the end; returns every evaluation.
    ///
    /// # Errors
    /// As [`MetaQweb::step`].
    pub fn run(&mut self) -> Result<Vec<Evaluation>> {
        let mut evaluations = Vec::new();
        while !self.is_done() {
            evaluations.extend(self.step()?);
            self.envs.drain_finished();
        }
        Ok(evaluations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_accuracy_is_checked_once_per_distinct_mark() {
        let config = MetaQwebConfig {
            inet: InetConfig {
                encoder_hidden: vec![4],
                attribute_hidden: vec![4],
                batch_size: 2,
                ..InetConfig::default()
            },
            inet_answers: 4,
            inet_eval_forms: 2,
        };
        let (_, checks) =
            train_inet(&config, &WebFormConfig::default(), 0, &[0, 0, 2, 2, 9]).unwrap();
        let answers: Vec<u64> = checks.iter().map(|c| c.answers).collect();
        assert_eq!(answers, [2, 4]);
    }

    #[test]
    fn bad_meta_config_values_name_their_field() {
        for (config, field) in [
            (
                MetaQwebConfig {
                    inet_answers: 0,
                    ..MetaQwebConfig::default()
                },
                "inet_answers",
            ),
            (
                MetaQwebConfig {
                    inet_eval_forms: 0,
                    ..MetaQwebConfig::default()
                },
                "inet_eval_forms",
            ),
            (
                MetaQwebConfig {
                    inet: InetConfig {
                        batch_size: 0,
                        ..InetConfig::default()
                    },
                    ..MetaQwebConfig::default()
                },
                "batch_size",
            ),
        ] {
            match config.validate() {
                Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(MetaQwebConfig::default().validate().is_ok());
        // Missing fields take their defaults; unknown ones are refused.
        let parsed: MetaQwebConfig = serde_json::from_value(serde_json::json!({
            "inet_answers": 5,
            "inet": {"encoding_dim": 8}
        }))
        .unwrap();
        assert_eq!(parsed.inet_answers, 5);
        assert_eq!(parsed.inet.encoding_dim, 8);
        assert_eq!(parsed.inet_eval_forms, DEFAULT_INET_EVAL_FORMS);
        assert!(
            serde_json::from_value::<MetaQwebConfig>(serde_json::json!({"inet_steps": 5})).is_err()
        );
    }
}
