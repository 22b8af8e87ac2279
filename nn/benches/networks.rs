//! Time of one training step (forward + backward + global-norm clip + Adam) at batch 64 and of
//! single-observation inference, for 24 → H → H → 4 MLPs (H = 64, 256; tanh and relu).
//!
//! Run: `cargo bench -p teachgym-nn --bench networks` (single thread; numbers are the
//! median of 7 repeats).

// The benchmark times std's tanh against fast_tanh and fills its inputs with sin/cos patterns;
// none of it is a reproducible path.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use ndarray::Array2;
use teachgym_nn::{
    Activation, Adam, AdamConfig, ForwardCache, Gradients, InferenceBuffers, Mlp, MlpConfig,
};

const BATCH: usize = 64;
const OBSERVATION: usize = 24;
const ACTIONS: usize = 4;
const REPEATS: usize = 7;

/// Median over [`REPEATS`] runs of the mean time per call of `f`, in microseconds.
fn median_micros(iterations: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iterations / 10 + 1 {
        f();
    }
    let mut samples: Vec<f64> = (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / iterations as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[REPEATS / 2]
}

fn main() {
    println!("| hidden | activation | train step, batch {BATCH} (µs) | forward (µs) | loss grad + backward (µs) | Adam (µs) | single-obs forward_one (µs) | single-obs via batched predict (µs) |");
    println!("|---|---|---|---|---|---|---|---|");
    for hidden in [64, 256] {
        for activation in [Activation::Tanh, Activation::Relu] {
            let config = MlpConfig::new(OBSERVATION, &[hidden, hidden], activation, ACTIONS);
            let mut net = Mlp::from_seed(config, 0).expect("valid config");
            let mut adam = Adam::new(AdamConfig::default(), &net).expect("valid config");
            let input = Array2::from_shape_fn((BATCH, OBSERVATION), |(r, c)| {
                ((r * 31 + c * 7) as f32 * 0.1).sin()
            });
            let target =
                Array2::from_shape_fn((BATCH, ACTIONS), |(r, c)| ((r + 3 * c) as f32 * 0.2).cos());
            let mut cache = ForwardCache::default();
            let mut grads = Gradients::zeros_like(&net);
            let iterations = if hidden == 64 { 2000 } else { 200 };
            let forward = median_micros(iterations, || {
                black_box(net.forward(input.view(), &mut cache).expect("shapes match"));
            });
            let step = median_micros(iterations, || {
                let output = net.forward(input.view(), &mut cache).expect("shapes match");
                // Gradient of the mean squared error ½‖y − t‖² / batch.
                let output_gradient = (&output - &target) / BATCH as f32;
                net.backward(&cache, output_gradient.view(), &mut grads)
                    .expect("shapes match");
                grads.clip_global_norm(0.5).expect("positive norm");
                adam.step(&mut net, &grads).expect("shapes match");
            });
            let backward = median_micros(iterations, || {
                let output = net.forward(input.view(), &mut cache).expect("shapes match");
                let output_gradient = (&output - &target) / BATCH as f32;
                net.backward(&cache, output_gradient.view(), &mut grads)
                    .expect("shapes match");
            }) - forward;
            let mut net_copy = net.clone();
            let adam_only = median_micros(iterations, || {
                adam.step(&mut net_copy, &grads).expect("shapes match");
            });
            let observation: Vec<f32> = input.row(0).to_vec();
            let mut buffers = InferenceBuffers::default();
            let single = median_micros(20_000, || {
                black_box(
                    net.forward_one(black_box(&observation), &mut buffers)
                        .expect("shapes match"),
                );
            });
            let single_batched = median_micros(20_000, || {
                black_box(
                    net.predict(input.slice(ndarray::s![0..1, ..]))
                        .expect("shapes match"),
                );
            });
            println!(
                "| {hidden} | {activation:?} | {step:.1} | {forward:.1} | {backward:.1} | {adam_only:.1} | {single:.2} | {single_batched:.2} |"
            );
        }
    }
    let xs: Vec<f32> = (0..4096).map(|i| (i as f32 - 2048.0) * 0.003).collect();
    let mut ys = vec![0.0f32; xs.len()];
    let fast = median_micros(2000, || {
        ys.copy_from_slice(black_box(&xs));
        Activation::Tanh.apply_in_place(black_box(&mut ys));
        black_box(&mut ys);
    });
    let std = median_micros(2000, || {
        ys.copy_from_slice(black_box(&xs));
        black_box(&mut ys).iter_mut().for_each(|y| *y = y.tanh());
        black_box(&mut ys);
    });
    println!(
        "\ntanh per element: fast_tanh {:.2} ns, f32::tanh {:.2} ns",
        fast * 1e3 / xs.len() as f64,
        std * 1e3 / xs.len() as f64
    );
}
