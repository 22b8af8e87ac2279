//! Fixed digests of a short walker episode and of a short PPO training run with a teacher,
//! written into the repository: the same seed must give the same trajectory and the same trained
//! weights on every x86-64 CPU, with every build. The simulated and learning paths use `libm`
//! for transcendental functions (not the platform's, which picks FMA variants at run time) and
//! fixed-order kernels for the networks, so a digest change here means a change of behaviour:
//! a code change (then update the constants and say why in BENCHMARKS.md), a dependency update
//! that changed results (rapier, rand), or a platform dependence that crept back in.

use teachgym::rollout::TrajectoryDigest;
use teachgym::students::{PpoAgent, PpoConfig, TestSet, Trainer, TrainerConfig};
use teachgym::teachers::build_teacher;
use teachgym_core::Env;
use teachgym_envs::{WalkerConfig, WalkerEnv};

/// Digest of [`walker_episode_digest`].
const WALKER_EPISODE_DIGEST: u64 = 0xba59_ed5e_661d_75f2;
/// Digest of [`ppo_run_digest`]. Issue 14 added `reward_floor` to PPO's config, so the
/// checkpoint text gained `"reward_floor":null`; without it the run gives the earlier digest
/// 0x1b01_04e0_e2e6_65c3 (checked when the field was added): the same run, bit for bit.
const PPO_RUN_DIGEST: u64 = 0xdd9c_6e19_d5f9_e2cd;

/// 400 steps of Stump Tracks (classic bipedal) with a fixed action pattern made of integer
/// arithmetic only, over two resets.
fn walker_episode_digest() -> u64 {
    let mut env = WalkerEnv::new(WalkerConfig::stump_tracks()).unwrap();
    let mut digest = TrajectoryDigest::default();
    for (seed, task) in [(7, [1.2, 2.5]), (8, [0.4, 5.0])] {
        let (obs, _) = env.reset(Some(seed), &task).unwrap();
        digest.add_step(&obs, 0.0);
        for t in 0..200u32 {
            let action: Vec<f32> = (0..4u32)
                .map(|j| ((t * 7 + j * 13) % 21) as f32 / 10.0 - 1.0)
                .collect();
            let step = env.step(&action).unwrap();
            digest.add_step(&step.obs, step.reward);
            if step.terminated || step.truncated {
                break;
            }
        }
    }
    digest.value()
}

/// Two PPO iterations on Stump Tracks with ALP-GMM choosing the tasks, 2 env copies: the digest
/// of every finished episode and of the trained student's checkpoint (every weight, Adam moment
/// and normaliser statistic, printed exactly).
fn ppo_run_digest() -> u64 {
    let config = WalkerConfig::stump_tracks();
    let space = config.task_space().unwrap();
    let teacher = build_teacher(
        "alp_gmm",
        space.clone(),
        3,
        serde_json::json!({"fit_rate": 4}),
    )
    .unwrap();
    let probe = WalkerEnv::new(config.clone()).unwrap();
    let ppo = PpoConfig {
        rollout_steps: 512,
        minibatch_size: 128,
        update_epochs: 2,
        ..PpoConfig::teachgym_walker()
    };
    let student =
        PpoAgent::for_spaces(ppo, probe.observation_space(), probe.action_space(), 3).unwrap();
    let trainer_config = TrainerConfig {
        total_steps: 1024,
        num_envs: 2,
        threads: 1,
        eval_every: 1024,
        eval_at_start: false,
        ..TrainerConfig::default()
    };
    let test_set = TestSet::new(&space, vec![vec![0.0, 6.0]]).unwrap();
    let mut make_env = || Ok(WalkerEnv::new(config.clone())?);
    let mut trainer =
        Trainer::new(trainer_config, 3, student, teacher, &mut make_env, test_set).unwrap();
    let mut digest = TrajectoryDigest::default();
    while !trainer.is_done() {
        for e in trainer.run_iteration().unwrap().episodes {
            let task: Vec<f32> = e.task.iter().map(|&v| v as f32).collect();
            digest.add_step(&task, e.summary.episode_return);
        }
    }
    let weights = trainer.checkpoint().unwrap().student;
    let bytes: Vec<f32> = weights.bytes().map(f32::from).collect();
    digest.add_step(&bytes, 0.0);
    digest.value()
}

#[test]
fn a_walker_episode_has_its_recorded_digest() {
    let got = walker_episode_digest();
    assert_eq!(
        got,
        walker_episode_digest(),
        "not even reproducible in one process"
    );
    assert_eq!(
        got, WALKER_EPISODE_DIGEST,
        "walker trajectory digest {got:#018x} differs from the recorded {WALKER_EPISODE_DIGEST:#018x}"
    );
}

#[test]
fn a_ppo_run_has_its_recorded_digest() {
    let got = ppo_run_digest();
    assert_eq!(
        got, PPO_RUN_DIGEST,
        "PPO run digest {got:#018x} differs from the recorded {PPO_RUN_DIGEST:#018x}"
    );
}
