//! AGAIN on the classroom toy, small: a v1 classroom (one ALP-GMM student per rotation) built
//! with `Classroom::build`, then a new student of each rotation finds the classroom student of
//! its own rotation from its KC vector and replays that student's curriculum. The new student's
//! pre-test runs the same ALP-GMM with the same seed as its classroom twin, so their KC vectors
//! agree exactly at the pre-test epoch: the k-NN must find the twin.
//! (The full comparison is `cargo run --release -p teachgym-teachers --example classroom_toy`.)

use std::sync::Arc;

use teachgym_teachers::again::{Again, AgainConfig, Phase, Replay};
use teachgym_teachers::toys::classroom::{
    classroom_toy_entry, run_classroom_toy, ClassroomToy, ClassroomToyVersion,
};
use teachgym_teachers::{build_teacher, AlpGmmConfig, Classroom, EntryRule};

const EPISODES: usize = 6000;
const EVAL_EVERY: usize = 1000;

fn alp_gmm() -> AlpGmmConfig {
    let mut c = AlpGmmConfig::teach_deep_rl();
    c.record_history = Some(true);
    c.gmm.fit_threads = 1;
    c
}

#[test]
fn again_finds_the_expert_of_its_own_type_and_replays_it() {
    let entries: Vec<_> = (0..4)
        .map(|t| {
            let mut student = ClassroomToy::new(ClassroomToyVersion::V1, t).unwrap();
            let config = serde_json::to_value(alp_gmm()).unwrap();
            let mut teacher = build_teacher(
                "alp_gmm",
                student.task_space().clone(),
                10 + t as u64,
                config,
            )
            .unwrap();
            let run =
                run_classroom_toy(teacher.as_mut(), &mut student, EPISODES, EVAL_EVERY).unwrap();
            assert_eq!(run.kc_vectors.len(), EPISODES / EVAL_EVERY);
            classroom_toy_entry(format!("type-{t}"), &student, run, teacher.as_ref())
        })
        .collect();
    let (classroom, left_out) = Classroom::build(entries, &EntryRule::default()).unwrap();
    assert!(left_out.is_empty(), "{left_out:?}");
    assert!(classroom
        .students
        .iter()
        .all(|s| !s.history.fits.is_empty()));
    let classroom = Arc::new(classroom);
    for t in 0..4usize {
        let mut student = ClassroomToy::new(ClassroomToyVersion::V1, t).unwrap();
        let config = AgainConfig {
            pretrain_epochs: 2,
            k: 1,
            replay: Replay::Reward,
            alp_gmm: alp_gmm(),
            ..AgainConfig::default()
        };
        let mut teacher = Again::with_classroom(
            student.task_space().clone(),
            10 + t as u64,
            config,
            classroom.clone(),
        )
        .unwrap();
        let run = run_classroom_toy(&mut teacher, &mut student, 4000, EVAL_EVERY).unwrap();
        assert_eq!(teacher.expert().unwrap().name, format!("type-{t}"));
        assert_ne!(teacher.phase(), Phase::Pretest);
        assert!(!teacher.curriculum().is_empty());
        assert!(run.cells_mastered > 0, "type {t}: nothing mastered");
        // The curriculum moved on from its first step.
        assert!(teacher.curriculum_index() > 0 || teacher.phase() == Phase::Stopped);
    }
}
