//! Acceptance test-bed: on teachDeepRL's toy grid and on its mostly-unlearnable variant,
//! ALP-GMM must master significantly more cells than Random (one-sided Welch t-test,
//! p < 0.05, 8 seeds, 10 000 episodes per run — a CI-sized budget; the full five-teacher table
//! at 20 000 episodes is produced by `examples/testbed.rs` and recorded in BENCHMARKS.md).

use teachgym_teachers::stats::{mean, welch_t_test_greater};
use teachgym_teachers::toys::{testbed_run, ToyVariant};

const SEEDS: u64 = 8;
const EPISODES: usize = 10_000;

fn scores(name: &str, variant: ToyVariant) -> Vec<f64> {
    (0..SEEDS)
        .map(|seed| testbed_run(name, variant, seed, EPISODES).expect("test-bed run") as f64)
        .collect()
}

fn alp_gmm_beats_random(variant: ToyVariant) {
    let alp = scores("alp_gmm", variant);
    let random = scores("random", variant);
    let test = welch_t_test_greater(&alp, &random);
    println!(
        "{variant:?}: alp_gmm {:.2} vs random {:.2} cells, t = {:.2}, p = {:.2e} ({alp:?} vs {random:?})",
        mean(&alp),
        mean(&random),
        test.t,
        test.p_value
    );
    assert!(
        test.p_value < 0.05,
        "{variant:?}: p = {} ({alp:?} vs {random:?})",
        test.p_value
    );
}

#[test]
fn alp_gmm_masters_more_cells_than_random_on_the_toy_grid() {
    alp_gmm_beats_random(ToyVariant::Grid);
}

#[test]
fn alp_gmm_masters_more_cells_than_random_when_most_of_the_space_is_unlearnable() {
    alp_gmm_beats_random(ToyVariant::MostlyUnlearnable);
}

#[test]
fn the_cheap_teachers_also_beat_random_on_the_grid() {
    let random = scores("random", ToyVariant::Grid);
    for name in ["riac", "adr"] {
        let s = scores(name, ToyVariant::Grid);
        assert!(
            welch_t_test_greater(&s, &random).p_value < 0.05,
            "{name}: {s:?} vs {random:?}"
        );
    }
}

#[test]
fn the_toy_student_runs_thousands_of_episodes_per_second() {
    // Not a timing assertion: counts the work, so a broken (e.g. quadratic) student shows up as
    // a slow test rather than a flaky failure.
    let mut student = ToyVariant::Grid.student();
    let mut total = 0.0;
    for i in 0..100_000 {
        let x = (i % 100) as f64 / 100.0;
        total += student.play(&[x, x]).expect("in bounds").episode_return;
    }
    assert!(total > 0.0);
}
