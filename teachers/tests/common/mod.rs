//! Helpers shared by the teachers' integration tests.
#![allow(dead_code)]

use serde_json::{json, Value};
use teachgym_teachers::toys::{testbed_config, ToyGrid};

/// GoalGAN fields that make it cheap: small networks, short pretraining and trainings, small
/// batches. Sampling, labelling, checkpoints and errors are the same code as at full size;
/// only the cost differs (a full-size GoalGAN pretrains for ≈ 0.7 s in release, ≈ 6 s in
/// the test profile).
pub fn goal_gan_quick() -> Value {
    json!({
        "generator_hidden": [16, 16],
        "discriminator_hidden": [8, 8],
        "pretrain_samples": 64,
        "pretrain_outer_iters": 5,
        "outer_iters": 5,
        "update_size": 10,
        "batch_size": 16
    })
}

/// `fields` added to (or replacing those of) the JSON object `config` (`null` counts as `{}`).
pub fn with_fields(config: Value, fields: Value) -> Value {
    let mut config = match config {
        Value::Null => json!({}),
        other => other,
    };
    if let (Value::Object(target), Value::Object(extra)) = (&mut config, fields) {
        target.extend(extra);
    }
    config
}

/// The test-bed config of `name` ([`testbed_config`]), with GoalGAN made cheap
/// ([`goal_gan_quick`]): for tests of the teacher contract, not of learning.
pub fn contract_config(name: &str, student: &ToyGrid) -> Value {
    let config = testbed_config(name, student);
    if name == "goal_gan" {
        with_fields(config, goal_gan_quick())
    } else {
        config
    }
}
