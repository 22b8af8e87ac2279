//! The value-estimate contract of the training loop (issue 15, for SPDL): a teacher that asks
//! (`value_estimate_discount`) gets, after every update, the student's value estimate of the
//! episode's initial observation and its discounted return, in the order of the updates; the
//! estimates survive a resume unchanged; a teacher that does not ask changes nothing.

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::{Env, TaskSpace};
use teachgym_envs::{PointMassConfig, PointMassEnv};
use teachgym_students::{
    EpisodeRecord, PpoAgent, PpoConfig, SacAgent, SacConfig, Student, TestSet, Trainer,
    TrainerCheckpoint, TrainerConfig,
};
use teachgym_teachers::{
    EpisodeOutcome, Result as TeacherResult, Teacher, TeacherError, ValueEstimate,
};

/// Uniform tasks; records every update and every estimate (its whole state is that record).
#[derive(Serialize, Deserialize)]
struct RecordingTeacher {
    #[serde(skip, default = "space")]
    space: TaskSpace,
    rng: Pcg64,
    discount: Option<f64>,
    updates: Vec<(Vec<f64>, f64)>,
    estimates: Vec<(Vec<f64>, ValueEstimate)>,
}

fn space() -> TaskSpace {
    PointMassConfig::default().task_space().unwrap()
}

impl RecordingTeacher {
    fn new(discount: Option<f64>) -> Self {
        RecordingTeacher {
            space: space(),
            rng: Pcg64::seed_from_u64(5),
            discount,
            updates: Vec::new(),
            estimates: Vec::new(),
        }
    }
}

impl Teacher for RecordingTeacher {
    fn name(&self) -> &'static str {
        "recording"
    }
    fn task_space(&self) -> &TaskSpace {
        &self.space
    }
    fn sample_task(&mut self) -> Vec<f64> {
        self.space.sample(&mut self.rng)
    }
    fn update(&mut self, task: &[f64], outcome: &EpisodeOutcome) -> TeacherResult<()> {
        self.updates.push((task.to_vec(), outcome.episode_return));
        Ok(())
    }
    fn value_estimate_discount(&self) -> Option<f64> {
        self.discount
    }
    fn record_value_estimate(
        &mut self,
        task: &[f64],
        estimate: &ValueEstimate,
    ) -> TeacherResult<()> {
        let expected = self.updates.get(self.estimates.len()).map(|u| &u.0);
        if expected.map(Vec::as_slice) != Some(task) {
            return Err(TeacherError::Checkpoint {
                reason: format!("estimate for {task:?}, expected one for {expected:?}"),
            });
        }
        self.estimates.push((task.to_vec(), *estimate));
        Ok(())
    }
    fn save_state(&self) -> TeacherResult<Vec<u8>> {
        Ok(serde_json::to_vec(self).unwrap())
    }
    fn load_state(&mut self, bytes: &[u8]) -> TeacherResult<()> {
        *self = serde_json::from_slice(bytes).unwrap();
        Ok(())
    }
}

fn make_env() -> teachgym_students::Result<PointMassEnv> {
    Ok(PointMassEnv::new(PointMassConfig::default())?)
}

fn config(total_steps: u64) -> TrainerConfig {
    TrainerConfig {
        total_steps,
        num_envs: 3,
        threads: 1,
        eval_every: total_steps,
        eval_at_start: false,
        ..TrainerConfig::default()
    }
}

fn ppo() -> PpoAgent {
    let config = PpoConfig {
        rollout_steps: 300,
        minibatch_size: 100,
        ..PpoConfig::default()
    };
    PpoAgent::new(config, 6, 2, 2).unwrap()
}

fn test_set() -> TestSet {
    TestSet::random(&space(), 2, 1).unwrap()
}

/// The recording teacher of a finished run, read back from the trainer's checkpoint.
fn teacher_of(trainer: &Trainer<PointMassEnv, PpoAgent>) -> RecordingTeacher {
    let checkpoint = trainer.checkpoint().unwrap();
    serde_json::from_str(&checkpoint.teacher).unwrap()
}

fn run(discount: Option<f64>) -> (Trainer<PointMassEnv, PpoAgent>, Vec<EpisodeRecord>) {
    let mut trainer = Trainer::new(
        config(1800),
        4,
        ppo(),
        Box::new(RecordingTeacher::new(discount)),
        &mut make_env,
        test_set(),
    )
    .unwrap();
    let mut episodes = Vec::new();
    while !trainer.is_done() {
        episodes.extend(trainer.run_iteration().unwrap().episodes);
    }
    (trainer, episodes)
}

#[test]
fn a_teacher_that_asks_gets_one_estimate_per_episode_in_order() {
    let (trainer, episodes) = run(Some(1.0));
    let teacher = teacher_of(&trainer);
    assert!(episodes.len() > 10, "only {} episodes", episodes.len());
    assert_eq!(teacher.estimates.len(), teacher.updates.len());
    assert_eq!(teacher.updates.len(), episodes.len());
    for ((task, estimate), (update_task, episode_return)) in
        teacher.estimates.iter().zip(&teacher.updates)
    {
        assert_eq!(task, update_task);
        assert!(estimate.initial_value.is_finite());
        // γ = 1: the discounted return is the return.
        assert!(
            (estimate.discounted_return - episode_return).abs() < 1e-9,
            "{} vs {episode_return}",
            estimate.discounted_return
        );
    }
    // The estimates come from the student: not all equal.
    let first = teacher.estimates[0].1.initial_value;
    assert!(teacher
        .estimates
        .iter()
        .any(|(_, e)| e.initial_value != first));

    // γ < 1 discounts.
    let (trainer, _) = run(Some(0.5));
    let discounted = teacher_of(&trainer);
    assert!(discounted
        .estimates
        .iter()
        .zip(&discounted.updates)
        .any(|((_, e), (_, r))| (e.discounted_return - r).abs() > 1e-6));
}

#[test]
fn a_teacher_that_does_not_ask_gets_nothing_and_changes_nothing() {
    let (asking, asking_episodes) = run(Some(0.9));
    let (silent, silent_episodes) = run(None);
    assert!(teacher_of(&silent).estimates.is_empty());
    // Asking for estimates does not change the run.
    assert_eq!(asking_episodes, silent_episodes);
    assert_eq!(
        Student::<PointMassEnv>::to_json(asking.student()),
        Student::<PointMassEnv>::to_json(silent.student())
    );
}

#[test]
fn estimates_survive_a_resume_unchanged() {
    let (uninterrupted, _) = run(Some(0.9));
    let mut first = Trainer::new(
        config(1800),
        4,
        ppo(),
        Box::new(RecordingTeacher::new(Some(0.9))),
        &mut make_env,
        test_set(),
    )
    .unwrap();
    for _ in 0..3 {
        first.run_iteration().unwrap();
    }
    let text = serde_json::to_string(&first.checkpoint().unwrap()).unwrap();
    let checkpoint: TrainerCheckpoint<Vec<f32>> = serde_json::from_str(&text).unwrap();
    let mut resumed = Trainer::<PointMassEnv, PpoAgent>::resume(
        config(1800),
        checkpoint,
        Box::new(RecordingTeacher::new(Some(0.9))),
        &mut make_env,
        test_set(),
    )
    .unwrap();
    while !resumed.is_done() {
        resumed.run_iteration().unwrap();
    }
    let (a, b) = (teacher_of(&uninterrupted), teacher_of(&resumed));
    assert_eq!(a.updates, b.updates);
    assert_eq!(a.estimates, b.estimates);
}

#[test]
fn students_estimate_in_return_units() {
    let mut env = make_env().unwrap();
    let obs = env.reset(Some(1), &[0.5, 1.0]).unwrap().0;
    // PPO: its critic; SAC: V with the V network, else the smaller critic at the mean action;
    // every student's estimate is finite and leaves the student unchanged.
    let mut ppo = ppo();
    let before = Student::<PointMassEnv>::to_json(&ppo);
    let v = Student::<PointMassEnv>::value_estimate(&mut ppo, &obs).unwrap();
    assert!(v.is_finite());
    assert_eq!(Student::<PointMassEnv>::to_json(&ppo), before);
    for value_network in [false, true] {
        let config = SacConfig {
            hidden_sizes: vec![8],
            batch_size: 4,
            buffer_size: 10,
            value_network,
            ..SacConfig::default()
        };
        let mut sac = SacAgent::new(config, 6, 2, 0).unwrap();
        let before = Student::<PointMassEnv>::to_json(&sac);
        let v = Student::<PointMassEnv>::value_estimate(&mut sac, &obs).unwrap();
        assert!(v.is_finite());
        assert_eq!(Student::<PointMassEnv>::to_json(&sac), before);
    }
    assert!(Student::<PointMassEnv>::value_estimate(&mut ppo, &vec![0.0; 5]).is_err());
}
