//! Property tests of the hardening harness (issue 22): a student checkpoint, mutated (numbers
//! replaced, bytes changed, cut), is refused with a typed error or restores a student that
//! acts; it never panics.
//!
//! A few dozen cases by default; `PROPTEST_CASES` runs more (`scripts/fuzz.sh`).

#[path = "../../tests/support/strategies.rs"]
mod strategies;

use proptest::prelude::*;
use strategies::{apply, config, mutation};
use teachgym_envs::{GridWorldEnv, PointMassEnv, WebFormConfig};
use teachgym_students::qweb::FormShape;
use teachgym_students::{
    DqnAgent, DqnConfig, PpoAgent, PpoConfig, QwebDqnAgent, QwebDqnConfig, Student,
};

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn student_checkpoints_never_panic(
        kind in 0..3usize,
        mutations in prop::collection::vec(mutation(), 1..4),
        obs in prop::collection::vec(-3.0..3.0f32, 12),
    ) {
        match kind {
            0 => {
                let config = PpoConfig { hidden_sizes: vec![8], ..PpoConfig::default() };
                let text = PpoAgent::new(config, 6, 2, 0).unwrap().to_json();
                let bytes = apply(&text, &mutations);
                if let Ok(mut agent) = PpoAgent::from_json(&String::from_utf8_lossy(&bytes)) {
                    let _ = Student::<PointMassEnv>::act_greedy(&mut agent, &obs[..6].to_vec(), None);
                    let _ = agent.to_json();
                }
            }
            1 => {
                let config = DqnConfig { hidden_sizes: vec![8], ..DqnConfig::default() };
                let text = DqnAgent::new(config, 12, 4, 0).unwrap().to_json();
                let bytes = apply(&text, &mutations);
                if let Ok(mut agent) = DqnAgent::from_json(&String::from_utf8_lossy(&bytes)) {
                    let mask = [true, false, true, true];
                    let _ = Student::<GridWorldEnv>::act_greedy(&mut agent, &obs, Some(&mask));
                    let _ = agent.to_json();
                }
            }
            _ => {
                let mut form = WebFormConfig { max_fields: 2, max_pages: 1, ..WebFormConfig::default() };
                form.max_elements = form.min_elements();
                let config = QwebDqnConfig {
                    encoder_hidden: vec![4],
                    pair_hidden: vec![4],
                    click_hidden: vec![4],
                    ..QwebDqnConfig::default()
                };
                let text = QwebDqnAgent::new(config, FormShape::of(&form), 0).unwrap().to_json();
                let bytes = apply(&text, &mutations);
                if let Ok(agent) = QwebDqnAgent::from_json(&String::from_utf8_lossy(&bytes)) {
                    let _ = agent.to_json();
                }
            }
        }
    }
}
