use rand::SeedableRng;
use rand_pcg::Pcg64;

use super::*;
use crate::TeacherError;

fn space(dim: usize) -> TaskSpace {
    TaskSpace::from_bounds(&vec![0.0; dim], &vec![2.0; dim]).unwrap()
}

/// A small setter so that tests run fast.
fn small_config() -> SetterSolverConfig {
    SetterSolverConfig {
        update_frequency: 10,
        setter_hidden_size: 8,
        setter_flow_blocks: 2,
        setter_highway_blocks: 2,
        judge_hidden_sizes: vec![8, 8],
        ..SetterSolverConfig::default()
    }
}

#[test]
fn defaults_are_the_benchmark_values() {
    let c = SetterSolverConfig::default();
    assert_eq!(
        (
            c.update_frequency,
            c.setter_loss_noise_ub,
            c.setter_hidden_size
        ),
        (50, 0.1, 64)
    );
    assert_eq!((c.setter_flow_blocks, c.setter_highway_blocks), (3, 3));
    assert_eq!(c.judge_hidden_sizes, vec![64, 64]);
    assert_eq!(
        (c.setter_learning_rate, c.judge_learning_rate),
        (3e-4, 3e-4)
    );
    let class = SetterSolverConfig::reference_class_defaults();
    assert_eq!(
        (
            class.update_frequency,
            class.setter_loss_noise_ub,
            class.setter_hidden_size
        ),
        (100, 0.01, 128)
    );
    assert_eq!(serde_json::from_str::<SetterSolverConfig>("{}").unwrap(), c);
    // 3 blocks × 3 couplings × (scale, shift) × (input, 3 highway blocks, output) layers.
    let t = SetterSolver::new(space(2), 0, c).unwrap();
    assert_eq!(t.setter.parameter_slices().len(), 3 * 3 * 2 * 5 * 2);
    assert_eq!(t.judge.config().layer_sizes(), vec![2, 64, 64, 1]);
}

#[test]
fn bad_config_values_name_their_field() {
    let cases: Vec<(SetterSolverConfig, &str)> = vec![
        (
            SetterSolverConfig {
                update_frequency: 0,
                ..Default::default()
            },
            "update_frequency",
        ),
        (
            SetterSolverConfig {
                update_frequency: usize::MAX,
                ..Default::default()
            },
            "update_frequency",
        ),
        (
            SetterSolverConfig {
                setter_loss_noise_ub: -0.1,
                ..Default::default()
            },
            "setter_loss_noise_ub",
        ),
        (
            SetterSolverConfig {
                setter_loss_noise_ub: f64::NAN,
                ..Default::default()
            },
            "setter_loss_noise_ub",
        ),
        (
            SetterSolverConfig {
                setter_hidden_size: 0,
                ..Default::default()
            },
            "setter_hidden_size",
        ),
        (
            SetterSolverConfig {
                setter_hidden_size: 4096,
                setter_flow_blocks: 16,
                ..Default::default()
            },
            "setter_hidden_size",
        ),
        (
            SetterSolverConfig {
                setter_flow_blocks: 0,
                ..Default::default()
            },
            "setter_flow_blocks",
        ),
        (
            SetterSolverConfig {
                setter_highway_blocks: 17,
                ..Default::default()
            },
            "setter_highway_blocks",
        ),
        (
            SetterSolverConfig {
                judge_hidden_sizes: vec![64, 0],
                ..Default::default()
            },
            "judge_hidden_sizes",
        ),
        (
            SetterSolverConfig {
                setter_learning_rate: 0.0,
                ..Default::default()
            },
            "setter_learning_rate",
        ),
        (
            SetterSolverConfig {
                judge_learning_rate: f32::INFINITY,
                ..Default::default()
            },
            "judge_learning_rate",
        ),
    ];
    for (config, field) in cases {
        match SetterSolver::new(space(2), 0, config) {
            Err(TeacherError::Core(teachgym_core::Error::InvalidConfig { field: f, .. })) => {
                assert_eq!(f, format!("setter_solver.{field}"))
            }
            other => panic!("{field}: {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn bad_updates_are_typed_errors_and_change_nothing() {
    let mut t = SetterSolver::new(space(2), 1, small_config()).unwrap();
    let task = t.sample_task();
    let before = t.save_state().unwrap();
    assert!(matches!(
        t.update(&task, &EpisodeOutcome::new(f64::NAN, true, 1)),
        Err(TeacherError::NonFiniteReturn { .. })
    ));
    assert!(matches!(
        t.update(&task[..1], &EpisodeOutcome::new(1.0, true, 1)),
        Err(TeacherError::Core(teachgym_core::Error::TaskDimension {
            expected: 2,
            got: 1,
            ..
        }))
    ));
    assert!(matches!(
        t.update(&[0.5, 2.5], &EpisodeOutcome::new(1.0, true, 1)),
        Err(TeacherError::Core(
            teachgym_core::Error::TaskOutOfBounds { .. }
        ))
    ));
    assert_eq!(before, t.save_state().unwrap());
}

/// Proposals are matched to their episodes in any order; a task the setter never proposed
/// trains the judge only.
#[test]
fn episodes_are_matched_to_their_proposals() {
    let mut t = SetterSolver::new(space(2), 2, small_config()).unwrap();
    let tasks: Vec<Vec<f64>> = (0..3).map(|_| t.sample_task()).collect();
    let proposals: Vec<Proposal> = t.pending.iter().cloned().collect();
    t.update(&tasks[2], &EpisodeOutcome::new(1.0, true, 1))
        .unwrap();
    t.update(&tasks[0], &EpisodeOutcome::new(0.0, false, 1))
        .unwrap();
    t.update(&[1.0, 0.5], &EpisodeOutcome::new(0.0, false, 1))
        .unwrap();
    assert_eq!(t.pending.len(), 1);
    assert_eq!(t.pending[0], proposals[1]);
    assert_eq!(
        t.buffer[0].proposal,
        Some((proposals[2].latent.clone(), proposals[2].feasibility))
    );
    assert!(t.buffer[0].success && !t.buffer[1].success);
    assert_eq!(t.buffer[1].goal, proposals[0].goal);
    assert_eq!(t.buffer[2].goal, vec![0.5, 0.25]);
    assert_eq!(t.buffer[2].proposal, None);
    // The tenth episode trains, then the buffer is empty again.
    for _ in 0..7 {
        let task = t.sample_task();
        t.update(&task, &EpisodeOutcome::new(0.0, task[0] < 1.0, 1))
            .unwrap();
    }
    assert_eq!(
        (t.training_steps(), t.buffer.len(), t.skipped_steps()),
        (1, 0, 0)
    );
    let losses = t.last_losses();
    assert!(losses.judge > 0.0 && losses.feasibility > 0.0 && losses.validity.is_finite());
}

#[test]
fn cross_entropy_gradient_matches_finite_differences() {
    let logits = [-3.0f32, -0.2, 0.0, 1.5, 7.0];
    let labels = [0.0f32, 1.0, 1.0, 0.0, 1.0];
    let (_, grads) = cross_entropy(&logits, &labels);
    for i in 0..logits.len() {
        let h = 1e-2f32;
        let mut plus = logits;
        plus[i] += h;
        let mut minus = logits;
        minus[i] -= h;
        let numeric =
            (cross_entropy(&plus, &labels).0 - cross_entropy(&minus, &labels).0) / (2.0 * h as f64);
        assert!(
            (numeric - grads[i] as f64).abs() < 1e-4,
            "{i}: {numeric} vs {}",
            grads[i]
        );
    }
    // Matches the closed form log(1 + e^l) − y·l.
    let (loss, _) = cross_entropy(&[0.3], &[1.0]);
    assert!((loss - (libm::log1p(libm::exp(0.3)) - 0.3)).abs() < 1e-6);
}

/// The gradient of feasibility + validity + coverage through setter and judge, against central
/// finite differences of the setter's parameters (a tanh judge, so no ReLU kink is crossed).
#[test]
fn setter_loss_gradient_matches_finite_differences() {
    let dim = 2;
    let config = small_config();
    let mut rng = Pcg64::seed_from_u64(3);
    let mut setter = build_setter(dim, &config, &mut rng);
    let mut judge = build_judge(dim, &config, &mut rng);
    for layer in 0..2 {
        judge.set_activation(layer, Activation::Tanh).unwrap();
    }
    let rows = 6;
    let latents = Array2::from_shape_fn((rows, dim), |_| standard_normal(&mut rng) as f32);
    let f: Vec<f64> = (0..rows).map(|_| draw_feasibility(&mut rng)).collect();
    // Valid goals where the setter puts mass (see the flow's own gradient test).
    let other = Array2::from_shape_fn((3, dim), |_| standard_normal(&mut rng) as f32);
    let conditions: Vec<f32> = f[..3].iter().map(|&v| v as f32).collect();
    let (valid_goals, _) = setter
        .sample(other.view(), &conditions, &mut FlowTape::default())
        .unwrap();
    let batch = SetterBatch {
        latents,
        conditions: f.iter().map(|&v| v as f32).collect(),
        target_logits: f
            .iter()
            .map(|&v| (libm::log(v) - libm::log1p(-v)) as f32)
            .collect(),
        valid_goals,
        valid_conditions: conditions,
    };
    let total = |setter: &ConditionalRealNvp| {
        let l = setter_losses(setter, &judge, &batch, None).unwrap();
        l.feasibility + l.validity + l.coverage
    };
    let mut grads = FlowGradients::zeros_like(&setter);
    let mut judge_scratch = Gradients::zeros_like(&judge);
    let losses = setter_losses(
        &setter,
        &judge,
        &batch,
        Some((&mut grads, &mut judge_scratch)),
    )
    .unwrap();
    assert!(losses.validity != 0.0 && losses.feasibility > 0.0);
    let analytic: Vec<Vec<f32>> = grads.slices().iter().map(|s| s.to_vec()).collect();
    let mut checked = 0;
    let mut significant = 0;
    for (t, tensor) in analytic.iter().enumerate() {
        for k in [0, tensor.len() / 3, tensor.len() - 1] {
            let h = 1e-3f32;
            let original = setter.parameter_slices()[t][k];
            setter.parameter_slices_mut()[t][k] = original + h;
            let plus = total(&setter);
            setter.parameter_slices_mut()[t][k] = original - h;
            let minus = total(&setter);
            setter.parameter_slices_mut()[t][k] = original;
            let numeric = (plus - minus) / (2.0 * h as f64);
            let a = tensor[k] as f64;
            // 5 % of the larger, plus the f32 rounding of the loss over 2h (~1e-3).
            let error = (numeric - a).abs() / (numeric.abs().max(a.abs()) + 4e-2);
            assert!(
                error < 5e-2,
                "tensor {t}[{k}]: analytic {a}, numeric {numeric}"
            );
            checked += 1;
            significant += usize::from(a.abs() > 0.05);
        }
    }
    assert!(
        checked >= 100 && significant > 30,
        "{checked}, {significant}"
    );
}

/// One synthetic episode: success when the goal's first coordinate is below 0.3 of the range.
fn play(task: &[f64]) -> EpisodeOutcome {
    let success = task[0] < 0.6;
    EpisodeOutcome::new(if success { 1.0 } else { 0.0 }, success, 1)
}

fn decisions(t: &mut SetterSolver, n: usize) -> Vec<Vec<u64>> {
    (0..n)
        .map(|_| {
            let task = t.sample_task();
            t.update(&task, &play(&task)).unwrap();
            task.iter().map(|v| v.to_bits()).collect()
        })
        .collect()
}

#[test]
fn same_seed_same_decisions_and_restored_state_continues_exactly() {
    let mut a = SetterSolver::new(space(3), 7, small_config()).unwrap();
    let mut b = SetterSolver::new(space(3), 7, small_config()).unwrap();
    assert_eq!(decisions(&mut a, 55), decisions(&mut b, 55));
    let mut c = SetterSolver::new(space(3), 8, small_config()).unwrap();
    assert_ne!(decisions(&mut a, 5), decisions(&mut c, 5));
    // Mid-buffer, with a pending proposal: the next 200 decisions (20 training steps) match.
    let _ = a.sample_task();
    let bytes = a.save_state().unwrap();
    let mut restored = SetterSolver::new(space(3), 99, small_config()).unwrap();
    restored.load_state(&bytes).unwrap();
    assert_eq!(restored.save_state().unwrap(), bytes);
    let _ = a.non_exploratory_samples(10);
    assert_eq!(decisions(&mut a, 200), decisions(&mut restored, 200));
    assert_eq!(a.training_steps(), restored.training_steps());
}

#[test]
fn inconsistent_checkpoints_are_refused() {
    let mut t = SetterSolver::new(space(2), 4, small_config()).unwrap();
    decisions(&mut t, 13);
    let good: serde_json::Value = serde_json::from_slice(&t.save_state().unwrap()).unwrap();
    let edits: Vec<(&str, serde_json::Value)> = vec![
        ("/state/setter_parameters/0", serde_json::json!([0.0])),
        ("/state/judge_parameters/1/0", serde_json::json!(1e300)),
        ("/state/buffer/0/goal", serde_json::json!([0.5])),
        ("/state/episodes", serde_json::json!(14)),
        ("/state/config/update_frequency", serde_json::json!(0)),
        (
            "/state/setter_optimizer/first_moments/0",
            serde_json::json!([1.0]),
        ),
    ];
    for (pointer, value) in edits {
        let mut bad = good.clone();
        *bad.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        let err = t
            .load_state(&serde_json::to_vec(&bad).unwrap())
            .unwrap_err();
        assert!(
            matches!(err, TeacherError::Checkpoint { .. }),
            "{pointer}: {err}"
        );
    }
    assert_eq!(
        serde_json::to_value(
            serde_json::from_slice::<serde_json::Value>(&t.save_state().unwrap()).unwrap()
        )
        .unwrap(),
        good
    );
}

#[test]
fn samples_stay_in_the_space_including_fixed_dimensions() {
    let space = TaskSpace::from_bounds(&[-3.0, 0.25, 0.0], &[3.0, 0.25, 6.0]).unwrap();
    let mut t = SetterSolver::new(space.clone(), 5, small_config()).unwrap();
    for _ in 0..40 {
        let task = t.sample_task();
        assert!(space.contains(&task), "{task:?}");
        assert_eq!(task[1], 0.25);
        t.update(&task, &EpisodeOutcome::new(0.0, task[0] < 0.0, 1))
            .unwrap();
    }
    let samples = t.non_exploratory_samples(2500).unwrap();
    assert_eq!(samples.len(), 2500);
    assert!(samples.iter().all(|s| space.contains(s)));
    assert!(space.contains(&t.propose_for_feasibility(0.9)));
    let f = t.judged_feasibility(&[0.0, 0.25, 3.0]).unwrap();
    assert!((0.0..=1.0).contains(&f));
    // One dimension: the second-half → first-half coupling is empty and left out.
    let mut one = SetterSolver::new(
        TaskSpace::from_bounds(&[0.0], &[1.0]).unwrap(),
        0,
        small_config(),
    )
    .unwrap();
    decisions(&mut one, 30);
}
