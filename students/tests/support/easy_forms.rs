//! The small web-form setting the QWeb tests learn in seconds: 1–2 text fields on one page, and
//! a small QWeb DQN for it.

use teachgym_envs::WebFormConfig;
use teachgym_students::qweb::{FormShape, QwebDqnAgent, QwebDqnConfig};

/// 1–2 text fields on one page, no distractors, no noise, nothing pre-filled.
pub fn easy_forms() -> WebFormConfig {
    let mut config = WebFormConfig {
        max_fields: 2,
        max_pages: 1,
        max_distractors: 0,
        ..WebFormConfig::default()
    };
    config.max_elements = config.min_elements();
    config.task_low = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    config.task_high = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    config
}

/// A small QWeb DQN (32-wide, 11k-odd parameters) that learns [`easy_forms`] in a few
/// thousand steps.
pub fn student(seed: u64) -> QwebDqnAgent {
    let config = QwebDqnConfig {
        embedding_dim: 8,
        encoder_hidden: vec![32],
        encoding_dim: 16,
        pair_hidden: vec![32],
        click_hidden: vec![32],
        learning_starts: 200,
        exploration_steps: 1_000,
        target_update_interval: 200,
        train_frequency: 4,
        batch_size: 32,
        buffer_size: 5_000,
        learning_rate: 1e-3,
        anneal_lr: false,
        ..QwebDqnConfig::default()
    };
    QwebDqnAgent::new(config, FormShape::of(&easy_forms()), seed).unwrap()
}
