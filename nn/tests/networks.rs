//! End-to-end checks of the network module through its public API: finite-difference gradient
//! checks, bit-identical single-observation inference, a tiny regression, determinism,
//! checkpoints and the typed errors of bad input.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_nn::{
    clip_global_norm, Activation, Adam, AdamConfig, Checkpoint, ForwardCache, Gradients,
    InferenceBuffers, Init, LayerConfig, Mlp, MlpConfig, NnError, CHECKPOINT_FORMAT_VERSION,
};

fn random_matrix(rows: usize, cols: usize, rng: &mut Pcg64) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random::<f32>() * 2.0 - 1.0)
}

/// Test loss `L = Σ c ⊙ y + ½ Σ y²` (in f64), so `∂L/∂y = c + y`.
fn loss(net: &Mlp, x: &Array2<f32>, c: &Array2<f32>) -> f64 {
    let y = net.predict(x.view()).unwrap();
    y.iter()
        .zip(c)
        .map(|(&y, &c)| c as f64 * y as f64 + 0.5 * (y as f64).powi(2))
        .sum()
}

/// Signs of every ReLU layer's pre-activations, to detect kinks crossed by a finite-difference
/// perturbation (the loss is not differentiable across them).
fn relu_pattern(net: &Mlp, x: &Array2<f32>) -> Vec<bool> {
    let mut cache = ForwardCache::default();
    net.forward(x.view(), &mut cache).unwrap();
    let mut pattern = Vec::new();
    let mut current = x.clone();
    for layer in net.layers() {
        let (rows, inputs) = current.dim();
        let mut pre = Array2::zeros((rows, layer.biases().len()));
        teachgym_nn::kernel::affine_forward(
            current.as_slice().unwrap(),
            rows,
            inputs,
            layer.weights().as_slice().unwrap(),
            layer.biases().as_slice().unwrap(),
            pre.as_slice_mut().unwrap(),
        );
        if matches!(layer.activation(), Activation::Relu | Activation::LeakyRelu) {
            pattern.extend(pre.iter().map(|&v| v > 0.0));
        }
        current = pre.mapv(|v| match layer.activation() {
            Activation::Relu => v.max(0.0),
            Activation::LeakyRelu => v.max(0.1 * v),
            Activation::Tanh => libm::tanhf(v),
            Activation::Identity => v,
        });
    }
    pattern
}

/// Central differences on every parameter and every input against the analytic gradients.
fn check_gradients(config: MlpConfig, seed: u64) {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut net = Mlp::new(config, &mut rng).unwrap();
    let (batch, eps) = (5, 3e-3f32);
    let x = random_matrix(batch, net.inputs(), &mut rng);
    let c = random_matrix(batch, net.outputs(), &mut rng);
    let mut cache = ForwardCache::default();
    let y = net.forward(x.view(), &mut cache).unwrap().to_owned();
    let mut grads = Gradients::zeros_like(&net);
    let input_grad = net
        .backward_with_input_gradient(&cache, (&c + &y).view(), &mut grads)
        .unwrap();
    let analytic: Vec<Vec<f32>> = grads.slices().iter().map(|s| s.to_vec()).collect();
    let base_pattern = relu_pattern(&net, &x);
    let (mut checked, mut skipped, mut worst) = (0, 0, 0.0f64);
    let mut compare = |fd: f64, exact: f32, what: String| {
        worst = worst.max((fd - exact as f64).abs());
        let tolerance = 5e-4 + 5e-3 * fd.abs().max(exact.abs() as f64);
        assert!(
            (fd - exact as f64).abs() <= tolerance,
            "{what}: finite difference {fd} vs analytic {exact}"
        );
        checked += 1;
    };
    for (t, tensor) in analytic.iter().enumerate() {
        for (i, &exact) in tensor.iter().enumerate() {
            let original = net.parameter_slices_mut()[t][i];
            net.parameter_slices_mut()[t][i] = original + eps;
            let (plus, plus_pattern) = (loss(&net, &x, &c), relu_pattern(&net, &x));
            net.parameter_slices_mut()[t][i] = original - eps;
            let (minus, minus_pattern) = (loss(&net, &x, &c), relu_pattern(&net, &x));
            net.parameter_slices_mut()[t][i] = original;
            if plus_pattern != base_pattern || minus_pattern != base_pattern {
                skipped += 1; // the perturbation crossed a ReLU kink: not differentiable there
                continue;
            }
            compare(
                (plus - minus) / (2.0 * eps as f64),
                exact,
                format!("tensor {t} element {i}"),
            );
        }
    }
    for ((r, k), &exact) in input_grad.indexed_iter() {
        let mut shifted = x.clone();
        shifted[(r, k)] += eps;
        let (plus, plus_pattern) = (loss(&net, &shifted, &c), relu_pattern(&net, &shifted));
        shifted[(r, k)] -= 2.0 * eps;
        let (minus, minus_pattern) = (loss(&net, &shifted, &c), relu_pattern(&net, &shifted));
        if plus_pattern != base_pattern || minus_pattern != base_pattern {
            skipped += 1;
            continue;
        }
        compare(
            (plus - minus) / (2.0 * eps as f64),
            exact,
            format!("input ({r}, {k})"),
        );
    }
    eprintln!("checked {checked}, skipped {skipped} at ReLU kinks, max abs difference {worst:e}");
    assert!(skipped * 10 <= checked, "{skipped} skipped of {checked}");
}

#[test]
fn gradients_match_finite_differences_for_every_activation() {
    for (seed, activation) in [
        Activation::Tanh,
        Activation::Relu,
        Activation::Identity,
        Activation::LeakyRelu,
    ]
    .into_iter()
    .enumerate()
    {
        // One hidden layer of this activation, whose output layer also uses it.
        let layers = vec![
            LayerConfig {
                outputs: 6,
                activation,
                init: Init::Orthogonal { gain: 1.0 },
            },
            LayerConfig {
                outputs: 3,
                activation,
                init: Init::ScaledUniform { scale: 1.0 },
            },
        ];
        check_gradients(MlpConfig { inputs: 4, layers }, seed as u64);
    }
}

#[test]
fn gradients_match_finite_differences_for_two_hidden_layers() {
    check_gradients(MlpConfig::new(5, &[7, 6], Activation::Tanh, 3), 11);
    check_gradients(MlpConfig::new(5, &[7, 6], Activation::Relu, 3), 12);
    // Widths that exercise the kernel's 8-column and 4-row tiles and their tails.
    check_gradients(
        MlpConfig::new(9, &[17, 8], Activation::Tanh, 2).with_output_gain(0.5),
        13,
    );
}

#[test]
fn single_observation_path_is_bit_identical_to_batched_forward() {
    for activation in [Activation::Tanh, Activation::Relu] {
        let mut rng = Pcg64::seed_from_u64(5);
        let net = Mlp::new(MlpConfig::new(24, &[64, 37], activation, 4), &mut rng).unwrap();
        let x = random_matrix(11, 24, &mut rng) * 3.0;
        let mut cache = ForwardCache::default();
        let batched = net.forward(x.view(), &mut cache).unwrap().to_owned();
        assert_eq!(net.predict(x.view()).unwrap(), batched);
        let mut buffers = InferenceBuffers::default();
        for (r, row) in x.rows().into_iter().enumerate() {
            let single = net
                .forward_one(row.as_slice().unwrap(), &mut buffers)
                .unwrap();
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(single),
                bits(batched.row(r).as_slice().unwrap()),
                "row {r}"
            );
        }
    }
}

/// Full-batch Adam on y = sin(x), x ∈ [−π, π]: 64 points, 1 → 32 → 32 → 1 tanh, 300 steps.
fn fit_sine(seed: u64, steps: usize) -> (Mlp, Adam, f32) {
    let x = Array2::from_shape_fn((64, 1), |(i, _)| -std::f32::consts::PI + i as f32 * 0.0997);
    let target = x.mapv(libm::sinf);
    let mut net = Mlp::from_seed(MlpConfig::new(1, &[32, 32], Activation::Tanh, 1), seed).unwrap();
    let mut adam = Adam::new(
        AdamConfig {
            learning_rate: 1e-2,
            ..AdamConfig::default()
        },
        &net,
    )
    .unwrap();
    let (mut cache, mut grads) = (ForwardCache::default(), Gradients::zeros_like(&net));
    let mut mse = f32::INFINITY;
    for _ in 0..steps {
        let error = &net.forward(x.view(), &mut cache).unwrap() - &target;
        mse = error.mapv(|e| e * e).mean().unwrap();
        net.backward(&cache, (error * (2.0 / 64.0)).view(), &mut grads)
            .unwrap();
        grads.clip_global_norm(10.0).unwrap();
        adam.step(&mut net, &grads).unwrap();
    }
    (net, adam, mse)
}

#[test]
fn regression_on_sine_reaches_low_loss_quickly() {
    let start = std::time::Instant::now();
    let (_, _, mse) = fit_sine(0, 300);
    eprintln!(
        "sine fit: MSE {mse:e} after 300 steps in {:?}",
        start.elapsed()
    );
    assert!(mse < 2e-3, "MSE {mse}");
}

#[test]
fn same_seed_gives_same_init_and_trajectory_bit_for_bit() {
    let config = MlpConfig::new(24, &[64, 64], Activation::Tanh, 4);
    assert_eq!(
        Mlp::from_seed(config.clone(), 9).unwrap(),
        Mlp::from_seed(config.clone(), 9).unwrap()
    );
    assert_ne!(
        Mlp::from_seed(config.clone(), 9).unwrap(),
        Mlp::from_seed(config, 10).unwrap()
    );
    let (net_a, adam_a, _) = fit_sine(3, 50);
    let (net_b, adam_b, _) = fit_sine(3, 50);
    assert_eq!(net_a, net_b);
    assert_eq!(adam_a, adam_b);
}

#[test]
fn checkpoint_round_trips_and_training_continues_identically() {
    let (net, adam, _) = fit_sine(4, 20);
    let json = Checkpoint::capture(&net, Some(&adam)).to_json();
    let (restored_net, restored_adam) = Checkpoint::from_json(&json).unwrap().restore().unwrap();
    assert_eq!(restored_net, net);
    assert_eq!(restored_adam.as_ref(), Some(&adam));
    // One more identical step on both copies stays identical.
    let step = |mut net: Mlp, mut adam: Adam| {
        let x = Array2::from_elem((3, 1), 0.3f32);
        let mut cache = ForwardCache::default();
        let y = net.forward(x.view(), &mut cache).unwrap().to_owned();
        let mut grads = Gradients::zeros_like(&net);
        net.backward(&cache, y.view(), &mut grads).unwrap();
        adam.step(&mut net, &grads).unwrap();
        net
    };
    assert_eq!(step(net, adam), step(restored_net, restored_adam.unwrap()));
}

#[test]
fn f32_values_survive_json_bit_for_bit() {
    let mut rng = Pcg64::seed_from_u64(8);
    let values: Vec<f32> = (0..200_000)
        .map(|_| f32::from_bits(rng.random::<u32>()))
        .filter(|v| v.is_finite())
        .collect();
    let back: Vec<f32> = serde_json::from_str(&serde_json::to_string(&values).unwrap()).unwrap();
    assert!(values
        .iter()
        .zip(&back)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn corrupt_or_foreign_checkpoints_are_typed_errors() {
    let net = Mlp::from_seed(MlpConfig::new(3, &[4], Activation::Relu, 2), 1).unwrap();
    let adam = Adam::new(AdamConfig::default(), &net).unwrap();
    let good = Checkpoint::capture(&net, Some(&adam));
    let json = good.to_json();
    let corrupt = |text: &str| {
        matches!(
            Checkpoint::from_json(text),
            Err(NnError::CorruptCheckpoint { .. })
        )
    };
    assert!(corrupt(&json[..json.len() / 2]), "truncated");
    assert!(corrupt(""), "empty");
    assert!(corrupt("{\"format_version\": 1}"), "missing fields");
    let mut short = good.clone();
    short.layers[0].weights.pop();
    assert!(corrupt(&short.to_json()), "wrong weight count");
    let mut extra_layer = good.clone();
    extra_layer.layers.push(extra_layer.layers[0].clone());
    assert!(corrupt(&extra_layer.to_json()), "layer count");
    let mut bad_moments = good.clone();
    bad_moments.optimizer.as_mut().unwrap().second_moments[1].push(0.0);
    assert!(corrupt(&bad_moments.to_json()), "moment lengths");
    let mut negative = good.clone();
    negative.optimizer.as_mut().unwrap().second_moments[0][0] = -1.0;
    assert!(corrupt(&negative.to_json()), "negative second moment");
    let mut bad_config = good.clone();
    bad_config.config.layers[0].outputs = 0;
    assert!(corrupt(&bad_config.to_json()), "invalid config");
    let future = json.replacen("\"format_version\":1", "\"format_version\":99", 1);
    assert_eq!(
        Checkpoint::from_json(&future).unwrap_err(),
        NnError::UnsupportedCheckpointVersion {
            found: 99,
            supported: CHECKPOINT_FORMAT_VERSION
        }
    );
}

#[test]
fn bad_input_is_a_typed_error_not_a_panic() {
    let net = Mlp::from_seed(MlpConfig::new(3, &[4], Activation::Tanh, 2), 1).unwrap();
    let mut cache = ForwardCache::default();
    let shape = |r: Result<_, NnError>| matches!(r, Err(NnError::ShapeMismatch { .. }));
    assert!(shape(
        net.forward(Array2::zeros((2, 4)).view(), &mut cache)
            .map(|_| ())
    ));
    assert!(shape(
        net.forward(Array2::zeros((0, 3)).view(), &mut cache)
            .map(|_| ())
    ));
    let mut with_nan = Array2::zeros((2, 3));
    with_nan[(1, 2)] = f32::NAN;
    assert!(matches!(
        net.forward(with_nan.view(), &mut cache),
        Err(NnError::NonFinite { what: "input", index: 5, value }) if value.is_nan()
    ));
    let mut buffers = InferenceBuffers::default();
    assert!(shape(net.forward_one(&[0.0; 2], &mut buffers).map(|_| ())));
    assert!(matches!(
        net.forward_one(&[0.0, f32::INFINITY, 0.0], &mut buffers),
        Err(NnError::NonFinite { .. })
    ));
    // Backward before any forward, with a wrong gradient shape, NaN gradient, foreign grads.
    let mut grads = Gradients::zeros_like(&net);
    assert!(shape(net.backward(
        &ForwardCache::default(),
        Array2::zeros((2, 2)).view(),
        &mut grads
    )));
    net.forward(Array2::zeros((2, 3)).view(), &mut cache)
        .unwrap();
    assert!(shape(net.backward(
        &cache,
        Array2::zeros((2, 3)).view(),
        &mut grads
    )));
    assert!(matches!(
        net.backward(
            &cache,
            Array2::from_elem((2, 2), f32::NAN).view(),
            &mut grads
        ),
        Err(NnError::NonFinite { .. })
    ));
    let other = Mlp::from_seed(MlpConfig::new(3, &[5], Activation::Tanh, 2), 1).unwrap();
    let mut foreign = Gradients::zeros_like(&other);
    assert!(shape(net.backward(
        &cache,
        Array2::zeros((2, 2)).view(),
        &mut foreign
    )));
    let mut other_cache = ForwardCache::default();
    other
        .forward(Array2::zeros((2, 3)).view(), &mut other_cache)
        .unwrap();
    assert!(shape(net.backward(
        &other_cache,
        Array2::zeros((2, 2)).view(),
        &mut grads
    )));
    // Optimiser and clipping.
    let mut adam = Adam::new(AdamConfig::default(), &net).unwrap();
    let mut net_copy = net.clone();
    assert!(shape(adam.step(&mut net_copy, &foreign)));
    assert_eq!(net_copy, net);
    assert!(matches!(
        grads.clip_global_norm(0.0),
        Err(NnError::InvalidConfig { .. })
    ));
    assert!(matches!(
        grads.clip_global_norm(f32::NAN),
        Err(NnError::InvalidConfig { .. })
    ));
    // Invalid network configs.
    for bad in [
        MlpConfig::new(0, &[4], Activation::Tanh, 2),
        MlpConfig::new(3, &[0], Activation::Tanh, 2),
        MlpConfig {
            inputs: 3,
            layers: vec![],
        },
        MlpConfig::new(3, &[4], Activation::Tanh, 2).with_output_gain(f32::NAN),
    ] {
        assert!(matches!(
            Mlp::from_seed(bad, 0),
            Err(NnError::InvalidConfig { .. })
        ));
    }
}

#[test]
fn global_norm_clipping_scales_jointly() {
    let mut rng = Pcg64::seed_from_u64(2);
    let net = Mlp::new(MlpConfig::new(3, &[4], Activation::Tanh, 2), &mut rng).unwrap();
    let x = random_matrix(4, 3, &mut rng);
    let mut cache = ForwardCache::default();
    net.forward(x.view(), &mut cache).unwrap();
    let (mut a, mut b) = (Gradients::zeros_like(&net), Gradients::zeros_like(&net));
    net.backward(&cache, Array2::from_elem((4, 2), 1.0).view(), &mut a)
        .unwrap();
    net.backward(&cache, Array2::from_elem((4, 2), 2.0).view(), &mut b)
        .unwrap();
    let norm_before = (a.squared_norm() + b.squared_norm()).sqrt() as f32;
    let reported = clip_global_norm(&mut [&mut a, &mut b], 0.1).unwrap();
    assert!((reported - norm_before).abs() < 1e-5 * norm_before);
    let norm_after = (a.squared_norm() + b.squared_norm()).sqrt();
    assert!((norm_after - 0.1).abs() < 1e-5, "{norm_after}");
    assert!((b.global_norm() / a.global_norm() - 2.0).abs() < 1e-5);
    // A norm already below the limit is left untouched.
    let before = a.clone();
    a.clip_global_norm(1e3).unwrap();
    assert_eq!(a, before);
}
