//! Setter-Solver acceptance (issue 15): after training on a synthetic student, the setter's
//! goals for a requested feasibility `f` are judged feasible in the order of `f` (Spearman rank
//! correlation > 0.5 between `f` and the judge's probability of success on the goal), and are
//! truly feasible in that order too.
//!
//! The student succeeds on task `x ∈ [0, 1]²` with probability `x₀`. The untrained setter
//! orders its goals the other way (its random initial weights make `x₀` fall as `f` rises:
//! Spearman −0.89 with the true feasibility), so the test sees training reverse the order, not
//! a lucky start. (The untrained *judged* correlation is a coincidence of two random networks,
//! 0.78 here, which is why the true one is checked as well.)
//!
//! The setter is trained with 2 000 steps (10 000 episodes, a step every 5 episodes, Adam step
//! 1e-3 for both networks, highway width 32). The benchmark's single 3e-4 step every 50
//! episodes moves too little in 10 000 episodes (200 steps) to reverse a wrong initial order.

use rand::{Rng, SeedableRng};
use teachgym_teachers::stats::spearman;
use teachgym_teachers::{EpisodeOutcome, SetterSolver, SetterSolverConfig, TaskSpace, Teacher};

#[test]
fn judged_feasibility_of_the_setters_goals_tracks_the_requested_feasibility() {
    let space = TaskSpace::from_bounds(&[0.0, 0.0], &[1.0, 1.0]).unwrap();
    let config = SetterSolverConfig {
        update_frequency: 5,
        setter_hidden_size: 32,
        setter_learning_rate: 1e-3,
        judge_learning_rate: 1e-3,
        ..SetterSolverConfig::default()
    };
    let mut teacher = SetterSolver::new(space, 0, config).unwrap();
    let mut outcomes = rand_pcg::Pcg64::seed_from_u64(1);
    let requested: Vec<f64> = (0..200).map(|i| 0.025 + 0.95 * i as f64 / 199.0).collect();
    // (judged, true) rank correlations with f of the goals proposed for each requested f.
    let correlation = |teacher: &mut SetterSolver| {
        let (judged, actual): (Vec<f64>, Vec<f64>) = requested
            .iter()
            .map(|&f| {
                let task = teacher.propose_for_feasibility(f);
                (teacher.judged_feasibility(&task).unwrap(), task[0])
            })
            .unzip();
        (spearman(&requested, &judged), spearman(&requested, &actual))
    };
    let before = correlation(&mut teacher);
    for _ in 0..10_000 {
        let task = teacher.sample_task();
        let success = outcomes.random::<f64>() < task[0];
        let outcome = EpisodeOutcome::new(if success { 1.0 } else { 0.0 }, success, 1);
        teacher.update(&task, &outcome).unwrap();
    }
    let after = correlation(&mut teacher);
    println!(
        "Spearman with f of the goals' judged / true feasibility: untrained {before:.3?}, \
         trained {after:.3?}"
    );
    assert_eq!(teacher.training_steps(), 2_000);
    assert_eq!(teacher.skipped_steps(), 0);
    assert!(before.1 < 0.0, "untrained {before:?}");
    assert!(
        after.0 > 0.5 && after.1 > 0.5,
        "trained {after:?} (untrained: {before:?})"
    );
}
