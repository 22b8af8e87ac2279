use std::sync::Arc;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::Env;
use teachgym_envs::webform::{ELEMENT_FEATURES, INVALID_FEATURE};
use teachgym_envs::{WebFormConfig, WebFormEnv, WebFormMdEnv, WebFormObs};

use super::network::{row_labels, NetworkShape, Pass, QwebGrads, QwebNet};
use super::*;
use crate::activation::Activation;

fn env_config() -> WebFormConfig {
    let mut config = WebFormConfig {
        max_fields: 3,
        max_pages: 1,
        ..WebFormConfig::default()
    };
    config.max_elements = config.min_elements() + 8;
    config
}

/// Observations along oracle episodes (so inputs get filled) on mixed widgets and distractors.
fn observations(n: usize) -> Vec<Arc<WebFormObs>> {
    let mut env = WebFormEnv::new(env_config()).unwrap();
    let mut out = Vec::new();
    let mut seed = 0;
    while out.len() < n {
        let task = [0.6, 0.7, 0.3, 0.0, 0.2, 0.3, 0.5, 1.0, 1.0];
        let (mut obs, _) = env.reset(Some(seed), &task).unwrap();
        seed += 1;
        loop {
            out.push(obs.clone());
            let step = env.step(&env.oracle_action().unwrap()).unwrap();
            if step.terminated || step.truncated || out.len() >= n {
                break;
            }
            obs = step.obs;
        }
    }
    out
}

fn shape() -> FormShape {
    FormShape::of(&env_config())
}

fn small_config() -> QwebDqnConfig {
    QwebDqnConfig {
        embedding_dim: 3,
        encoder_hidden: vec![5],
        encoding_dim: 4,
        pair_hidden: vec![6],
        pooled_dim: 2,
        click_hidden: vec![5],
        learning_starts: 20,
        batch_size: 8,
        buffer_size: 200,
        train_frequency: 1,
        target_update_interval: 10,
        exploration_steps: 50,
        ..QwebDqnConfig::default()
    }
}

#[test]
fn defaults_validate_and_bad_configs_are_typed_errors() {
    QwebDqnConfig::default().validate().unwrap();
    let partial: QwebDqnConfig = serde_json::from_str(r#"{"embedding_dim": 4}"#).unwrap();
    assert_eq!(partial.embedding_dim, 4);
    assert!(serde_json::from_str::<QwebDqnConfig>(r#"{"embeding_dim": 4}"#).is_err());
    let cases = [
        (
            "embedding_dim",
            QwebDqnConfig {
                embedding_dim: 0,
                ..QwebDqnConfig::default()
            },
        ),
        (
            "pair_hidden",
            QwebDqnConfig {
                pair_hidden: vec![4, 0],
                ..QwebDqnConfig::default()
            },
        ),
        (
            "gamma",
            QwebDqnConfig {
                gamma: 1.5,
                ..QwebDqnConfig::default()
            },
        ),
        (
            "batch_size",
            QwebDqnConfig {
                batch_size: 0,
                ..QwebDqnConfig::default()
            },
        ),
    ];
    for (field, config) in cases {
        crate::error::assert_invalid_field(config.validate(), field);
    }
}

#[test]
fn parameter_count_does_not_depend_on_the_caps() {
    let small = QwebDqnAgent::new(QwebDqnConfig::default(), shape(), 0).unwrap();
    let mut wide = shape();
    wide.max_elements *= 4;
    wide.max_fields += 5;
    let wide = QwebDqnAgent::new(QwebDqnConfig::default(), wide, 0).unwrap();
    assert_eq!(small.num_parameters(), wide.num_parameters());
}

#[test]
fn network_gradients_match_finite_differences() {
    for options in 0..8 {
        gradients_match_finite_differences(options & 1 == 1, options & 2 == 2, options & 4 == 4);
    }
}

fn gradients_match_finite_differences(pair_product: bool, row_context: bool, soft_match: bool) {
    let form = shape();
    let mut rng = Pcg64::seed_from_u64(3);
    let net_shape = NetworkShape {
        embedding_dim: 3,
        encoder_hidden: vec![4],
        encoding_dim: 3,
        pair_hidden: vec![4],
        pooled_dim: 2,
        click_hidden: vec![3],
        pair_product,
        row_context,
        soft_match,
        satisfied_across_pages: true,
        validation_marks: true,
    };
    let mut net = QwebNet::new(&net_shape, &form, &mut rng).unwrap();
    // Smooth activations, so finite differences do not straddle ReLU kinks.
    for mlp in &mut net.mlps {
        for layer in 0..mlp.layers().len() - 1 {
            mlp.set_activation(layer, Activation::Tanh).unwrap();
        }
    }
    let obs = observations(4);
    let snaps: Vec<FormSnapshot> = obs
        .iter()
        .map(|o| FormSnapshot::from_obs(o, &form).unwrap())
        .collect();
    let batch: Vec<&FormSnapshot> = snaps.iter().collect();
    // Every input but the form title's and buttons' sits in a row with a label.
    let with_label: usize = batch
        .iter()
        .map(|s| row_labels(s, form.max_elements).iter().flatten().count())
        .sum();
    assert!(with_label >= 8, "{with_label} elements with a row label");
    let n = form.n_actions();
    // Loss = Σ c·Q over the legal actions.
    let mut weights = Array2::<f32>::zeros((batch.len(), n));
    let mut legal = vec![false; n];
    for (b, s) in batch.iter().enumerate() {
        s.dense_mask(&form, &mut legal);
        for a in 0..n {
            if legal[a] {
                weights[(b, a)] = rng.random::<f32>() * 2.0 - 1.0;
            }
        }
    }
    let loss_of = |net: &QwebNet| -> f64 {
        let q = net.forward(&batch, &form, &mut Pass::default()).unwrap();
        q.iter()
            .zip(weights.iter())
            .map(|(&q, &w)| q as f64 * w as f64)
            .sum()
    };
    let mut pass = Pass::default();
    net.forward(&batch, &form, &mut pass).unwrap();
    let mut grads = QwebGrads::zeros_like(&net);
    net.backward(&batch, &form, &pass, weights.view(), &mut grads)
        .unwrap();
    let analytic: Vec<Vec<f32>> = grads.slices().iter().map(|s| s.to_vec()).collect();
    let eps = 1e-2f32;
    let (mut checked, mut nonzero_embedding) = (0, 0);
    for (t, tensor) in analytic.iter().enumerate() {
        for (i, &exact) in tensor.iter().enumerate() {
            // The embedding table is large: check the rows the batch uses and a sample of the rest.
            if t == 0 && exact == 0.0 && i % 97 != 0 {
                continue;
            }
            if t == 0 && exact != 0.0 {
                nonzero_embedding += 1;
            }
            let original = net.parameter_slices_mut()[t][i];
            net.parameter_slices_mut()[t][i] = original + eps;
            let plus = loss_of(&net);
            net.parameter_slices_mut()[t][i] = original - eps;
            let minus = loss_of(&net);
            net.parameter_slices_mut()[t][i] = original;
            let numeric = (plus - minus) / (2.0 * eps as f64);
            let tol = 3e-3 + 2e-2 * numeric.abs();
            assert!(
                (numeric - exact as f64).abs() <= tol,
                "product {pair_product}, context {row_context}, soft {soft_match}: tensor {t} element {i}: \
                 analytic {exact} vs numeric {numeric}"
            );
            checked += 1;
        }
    }
    assert!(
        nonzero_embedding > 10,
        "{nonzero_embedding} embedding gradients"
    );
    assert!(checked > 300, "{checked}");
}

#[test]
fn greedy_actions_are_legal_and_exploration_respects_masks() {
    let obs = observations(6);
    let mut agent = QwebDqnAgent::new(small_config(), shape(), 1).unwrap();
    for o in &obs {
        let a = Student::<WebFormEnv>::act_greedy(&mut agent, o, None).unwrap();
        assert_eq!(o.action_mask[a], 1, "greedy action {a} is illegal");
        // The MultiDiscrete env gets the same composite action, as (slot, click/type, field).
        let md = Student::<WebFormMdEnv>::act_greedy(&mut agent, o, None).unwrap();
        let width = 1 + shape().max_fields;
        let expected = match a % width {
            0 => [a / width, 0, 0],
            j => [a / width, 1, j - 1],
        };
        assert_eq!(md, expected);
        // A caller mask allowing one legal action forces it.
        let only = o.action_mask.iter().rposition(|&m| m == 1).unwrap();
        let mask: Vec<bool> = (0..o.action_mask.len()).map(|i| i == only).collect();
        assert_eq!(
            Student::<WebFormEnv>::act_greedy(&mut agent, o, Some(&mask)).unwrap(),
            only
        );
    }
    let snap = FormSnapshot::from_obs(&obs[0], &shape()).unwrap();
    let mut out = Vec::new();
    for _ in 0..50 {
        agent
            .select_actions(&[&snap], None, 0, false, &mut out)
            .unwrap();
        assert_eq!(obs[0].action_mask[out[0]], 1);
    }
    let none = vec![false; shape().n_actions()];
    assert!(matches!(
        agent.select_actions(&[&snap], Some(&none), 0, false, &mut out),
        Err(StudentError::NoLegalAction { row: 0 })
    ));
}

#[test]
fn bad_observations_are_typed_errors() {
    let obs = observations(1)[0].as_ref().clone();
    let agent = QwebDqnAgent::new(small_config(), shape(), 0).unwrap();
    let mut short = obs.clone();
    short.dom_feat.pop();
    assert!(matches!(
        agent.q_values(&short),
        Err(StudentError::ShapeMismatch {
            what: "dom_feat",
            ..
        })
    ));
    let mut token = obs.clone();
    token.dom_tokens[0] = 1 << 20;
    assert!(matches!(
        agent.q_values(&token),
        Err(StudentError::ShapeMismatch {
            what: "dom_tokens",
            ..
        })
    ));
    let mut nan = obs.clone();
    nan.match_feat[0] = f32::NAN;
    assert!(matches!(
        agent.q_values(&nan),
        Err(StudentError::NonFinite { what: "match", .. })
    ));
    let mut holes = obs.clone();
    holes.dom_mask[0] = 0;
    assert!(matches!(
        agent.q_values(&holes),
        Err(StudentError::ShapeMismatch {
            what: "dom_mask",
            ..
        })
    ));
    let mut padding_action = obs.clone();
    *padding_action.action_mask.last_mut().unwrap() = 1;
    assert!(matches!(
        agent.q_values(&padding_action),
        Err(StudentError::ShapeMismatch {
            what: "action_mask",
            ..
        })
    ));
    let other_caps = WebFormEnv::new(WebFormConfig {
        max_fields: 2,
        max_pages: 1,
        ..WebFormConfig::default()
    })
    .unwrap();
    let mut env = other_caps;
    let (other, _) = env
        .reset(Some(0), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
        .unwrap();
    assert!(matches!(
        agent.q_values(&other),
        Err(StudentError::ShapeMismatch { .. })
    ));
}

/// Runs the agent on 2 envs for `iterations` vector steps.
fn train_a_little(agent: &mut QwebDqnAgent, iterations: usize, seed: u64) {
    let mut envs = vec![
        WebFormEnv::new(env_config()).unwrap(),
        WebFormEnv::new(env_config()).unwrap(),
    ];
    let tasks = crate::FixedTasks::new(vec![
        vec![0.5, 0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0],
    ])
    .unwrap();
    let mut vec_env =
        crate::VecEnv::new(std::mem::take(&mut envs), seed, 1, Box::new(tasks)).unwrap();
    for _ in 0..iterations {
        let clock = TrainClock {
            global_step: vec_env.global_step(),
            total_steps: 1_000,
        };
        agent.train_iteration(&mut vec_env, clock).unwrap();
    }
}

/// A checkpoint as `version` wrote it (edited as text: the RNG's 128-bit state does not
/// survive a `serde_json::Value`): without the config options it did not know, which the
/// agent had off, with replayed observations one element feature narrower (the `invalid`
/// mark came with version 4) and, before version 3, without their placed flags. Loads with the
/// network it was written by; read as the current version, the same file is rejected.
fn an_old_checkpoint_loads_with_the_network_it_was_written_by(version: u32, options: &str) {
    let config = QwebDqnConfig {
        pair_product: false,
        row_context: version >= 2,
        soft_match: false,
        satisfied_across_pages: version >= 3,
        validation_marks: false,
        ..small_config()
    };
    let mut agent = QwebDqnAgent::new(config, shape(), 5).unwrap();
    train_a_little(&mut agent, 10, 5);
    let text = agent.to_json();
    assert!(text.contains(options), "{options}");
    assert!(text.contains(r#","placed":["#));
    let current = format!(r#""format_version":{QWEB_CHECKPOINT_VERSION},"#);
    assert!(text.starts_with(&format!("{{{current}")));
    let mut as_written = drop_last_element_feature(&text.replacen(options, "", 1));
    if version < 3 {
        as_written = regex_free_remove(&as_written, r#","placed":["#, ']');
    }
    let old = as_written.replacen(&current, &format!(r#""format_version":{version},"#), 1);
    let restored = QwebDqnAgent::from_json(&old).unwrap();
    assert_eq!(restored.config(), agent.config());
    let obs = observations(3);
    for o in &obs {
        assert_eq!(restored.q_values(o).unwrap(), agent.q_values(o).unwrap());
    }
    // Written back as the current version, with the replay's rows widened.
    let again = QwebDqnAgent::from_json(&restored.to_json()).unwrap();
    assert_eq!(
        again.q_values(&obs[0]).unwrap(),
        agent.q_values(&obs[0]).unwrap()
    );
    // Read as the current version: neither the network nor the replay's rows fit.
    assert!(matches!(
        QwebDqnAgent::from_json(&as_written),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
}

/// `text` with the last column of every `"element_features"` array's rows dropped.
fn drop_last_element_feature(text: &str) -> String {
    const KEY: &str = r#""element_features":["#;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        let after = &rest[at + KEY.len()..];
        let close = after.find(']').expect("closed");
        let kept: Vec<&str> = after[..close]
            .split(',')
            .filter(|v| !v.is_empty())
            .enumerate()
            .filter(|(i, _)| i % ELEMENT_FEATURES != ELEMENT_FEATURES - 1)
            .map(|(_, v)| v)
            .collect();
        out.push_str(&kept.join(","));
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

/// `text` without every `start…end` span (`end` included).
fn regex_free_remove(text: &str, start: &str, end: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(start) {
        out.push_str(&rest[..at]);
        let after = &rest[at + start.len()..];
        rest = &after[after.find(end).expect("closed") + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn sat_reads_the_placed_flags_only_across_pages() {
    let across = QwebDqnAgent::new(small_config(), shape(), 9).unwrap();
    let mut in_view = across.clone();
    in_view.online.satisfied_across_pages = false;
    // The first observation of a cold-start form: nothing is held anywhere.
    let obs = observations(1).remove(0);
    assert!(obs.instr_placed.iter().all(|&p| p == 0));
    let mut placed = (*obs).clone();
    placed.instr_placed[0] = 1;
    let q = |agent: &QwebDqnAgent, o: &WebFormObs| agent.q_values(o).unwrap();
    assert_eq!(q(&across, &obs), q(&in_view, &obs));
    assert_eq!(q(&in_view, &placed), q(&in_view, &obs));
    assert_ne!(q(&across, &placed), q(&across, &obs));
}

#[test]
fn the_validation_marks_reach_q_only_when_read() {
    let obs = observations(1).remove(0);
    let mut marked = (*obs).clone();
    let e = 0;
    assert_eq!(marked.dom_mask[e], 1);
    marked.dom_feat[e * ELEMENT_FEATURES + INVALID_FEATURE] = 1.0;
    for validation_marks in [true, false] {
        let config = QwebDqnConfig {
            validation_marks,
            ..small_config()
        };
        let agent = QwebDqnAgent::new(config, shape(), 9).unwrap();
        let (q, q_marked) = (
            agent.q_values(&obs).unwrap(),
            agent.q_values(&marked).unwrap(),
        );
        assert_eq!(q != q_marked, validation_marks);
    }
}

#[test]
fn a_version_1_checkpoint_loads_with_the_network_it_was_written_by() {
    an_old_checkpoint_loads_with_the_network_it_was_written_by(
        1,
        r#""pair_product":false,"row_context":false,"soft_match":false,"satisfied_across_pages":false,"validation_marks":false,"#,
    );
}

#[test]
fn a_version_2_checkpoint_loads_with_sat_read_from_the_page_in_view() {
    an_old_checkpoint_loads_with_the_network_it_was_written_by(
        2,
        r#""satisfied_across_pages":false,"validation_marks":false,"#,
    );
}

#[test]
fn a_version_3_checkpoint_loads_without_the_validation_marks() {
    an_old_checkpoint_loads_with_the_network_it_was_written_by(3, r#""validation_marks":false,"#);
}

#[test]
fn checkpoint_round_trips_bit_exactly_and_shares_snapshots() {
    let mut agent = QwebDqnAgent::new(small_config(), shape(), 7).unwrap();
    train_a_little(&mut agent, 40, 7);
    assert!(agent.gradient_updates() > 0);
    assert_eq!(agent.replay().len(), 80);
    // Consecutive transitions share their snapshots.
    assert!(agent.replay().distinct_snapshots() < 2 * agent.replay().len());
    let json = agent.to_json();
    let mut restored = QwebDqnAgent::from_json(&json).unwrap();
    assert!(restored.to_json() == json);
    let obs = observations(3);
    for o in &obs {
        assert_eq!(agent.q_values(o).unwrap(), restored.q_values(o).unwrap());
    }
    // Both continue identically (the restored one rebuilds its snapshot cache).
    train_a_little(&mut agent, 10, 8);
    train_a_little(&mut restored, 10, 8);
    assert!(agent.to_json() == restored.to_json());
}

#[test]
fn the_learning_rate_follows_the_budget_only_when_annealed() {
    let constant_config = QwebDqnConfig {
        anneal_lr: false,
        ..small_config()
    };
    let mut constant = QwebDqnAgent::new(constant_config, shape(), 7).unwrap();
    train_a_little(&mut constant, 40, 7);
    assert_eq!(
        constant.adam.config().learning_rate,
        small_config().learning_rate
    );
    let annealed_config = QwebDqnConfig {
        anneal_lr: true,
        ..small_config()
    };
    let mut annealed = QwebDqnAgent::new(annealed_config.clone(), shape(), 7).unwrap();
    train_a_little(&mut annealed, 40, 7);
    // The last iteration started at global step 78 of the 1 000-step budget.
    let expected = (annealed_config.learning_rate as f64 * (1.0 - 78.0 / 1000.0)) as f32;
    assert_eq!(annealed.adam.config().learning_rate, expected);
}

#[test]
fn corrupt_checkpoints_are_typed_errors() {
    let mut agent = QwebDqnAgent::new(small_config(), shape(), 7).unwrap();
    train_a_little(&mut agent, 15, 7);
    let json = agent.to_json();
    // `serde_json::Value` cannot hold the RNG's 128-bit integers: edit everything else and
    // splice the RNG's own text back in.
    let rng_text = serde_json::to_string(&agent.rng).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["rng"] = "RNG".into();
    let text_of = |v: &serde_json::Value| v.to_string().replace("\"RNG\"", &rng_text);
    let corrupt = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        edit(&mut v);
        QwebDqnAgent::from_json(&text_of(&v))
    };
    assert!(matches!(
        QwebDqnAgent::from_json("{not json"),
        Err(StudentError::CorruptCheckpoint { .. })
    ));
    assert!(matches!(
        corrupt(&|v| v["format_version"] = 99.into()),
        Err(StudentError::UnsupportedCheckpointVersion { found: 99, .. })
    ));
    for (name, edit) in [
        (
            "embedding",
            &(|v: &mut serde_json::Value| {
                v["online"]["embedding"].as_array_mut().unwrap().pop();
            }) as &dyn Fn(&mut serde_json::Value),
        ),
        ("config", &|v| v["config"]["encoding_dim"] = 5.into()),
        ("snapshot index", &|v| {
            v["replay"]["transitions"][0][0] = 1_000_000.into()
        }),
        ("capacity", &|v| v["replay"]["capacity"] = 3.into()),
        ("token", &|v| {
            v["replay"]["snapshots"][0]["key_tokens"][0] = 60_000.into()
        }),
        ("adam", &|v| {
            v["online"]["adam"]["first_moments"]
                .as_array_mut()
                .unwrap()
                .pop();
        }),
    ] {
        assert!(
            matches!(corrupt(edit), Err(StudentError::CorruptCheckpoint { .. })),
            "{name}: {:?}",
            corrupt(edit).err()
        );
    }
    // The untouched text restores.
    QwebDqnAgent::from_json(&text_of(&value)).unwrap();
}

/// Issue 22, case 2: `embedding_dim` and the other widths accepted any integer (an allocation
/// abort); they now share the network caps.
#[test]
fn widths_have_caps() {
    for (field, config) in [
        (
            "embedding_dim",
            QwebDqnConfig {
                embedding_dim: 1 << 40,
                ..QwebDqnConfig::default()
            },
        ),
        (
            "pooled_dim",
            QwebDqnConfig {
                pooled_dim: usize::MAX,
                ..QwebDqnConfig::default()
            },
        ),
        (
            "pair_hidden",
            QwebDqnConfig {
                pair_hidden: vec![64; 100],
                ..QwebDqnConfig::default()
            },
        ),
    ] {
        crate::error::assert_invalid_field(config.validate(), field);
        assert!(QwebDqnAgent::new(config, shape(), 0).is_err());
    }
}
