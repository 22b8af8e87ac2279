//! Contract tests of the web-form envs: the oracle solves every form on a parameter grid in the
//! optimal number of steps, difficulty is monotonic along every axis, shaping telescopes, runs
//! are reproducible, and bad input gives typed errors.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use teachgym_core::{Env, Error, Space};
use teachgym_envs::webform::{
    form_html, generate, ButtonRole, Form, InteractionLevel, ObsArray, Role, ShapingMode,
    WebFormConfig, WebFormEnv, WebFormMdEnv, WebFormObs, ELEMENT_FEATURES, FILLED_FEATURE,
    GOAL_COVERAGE_DIM, INVALID_FEATURE, MATCH_FEATURES, PAGE_SCRIPT, TASK_DIMS,
};

/// An env over the whole task box (`goal_coverage` opened: its default bounds are `[1, 1]`).
fn env(level: InteractionLevel) -> WebFormEnv {
    WebFormEnv::new(WebFormConfig {
        interaction_level: level,
        task_low: vec![0.0; TASK_DIMS],
        ..WebFormConfig::default()
    })
    .unwrap()
}

/// `v` on every axis but `goal_coverage`, which is at 1 (every field named, the default).
fn every_field(v: f64) -> Vec<f64> {
    let mut task = vec![v; TASK_DIMS];
    task[GOAL_COVERAGE_DIM] = 1.0;
    task
}

/// Runs the oracle from reset; returns (steps, success, optimal_steps).
fn run_oracle(env: &mut WebFormEnv, seed: u64, task: &[f64]) -> (u32, bool, u32) {
    let (_, info) = env.reset(Some(seed), task).unwrap();
    let optimal = info.get("optimal_steps").unwrap() as u32;
    assert_eq!(env.optimal_steps(), Some(optimal));
    let mut steps = 0;
    loop {
        let a = env.oracle_action().unwrap();
        assert_eq!(
            env.action_mask().unwrap()[a],
            1,
            "oracle chose a masked action"
        );
        let step = env.step(&a).unwrap();
        steps += 1;
        assert_eq!(step.info.get("invalid_action"), Some(0.0));
        if step.terminated || step.truncated {
            return (steps, step.info.get("success") == Some(1.0), optimal);
        }
    }
}

#[test]
fn oracle_solves_every_form_of_a_grid_in_the_optimal_number_of_steps() {
    let levels = [0.0, 0.5, 1.0];
    for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
        let mut env = env(level);
        let mut forms = 0;
        // 3^9 = 19683 corners and midpoints of the task box, one seed each.
        for code in 0..levels.len().pow(TASK_DIMS as u32) {
            let mut c = code;
            let task: Vec<f64> = (0..TASK_DIMS)
                .map(|_| {
                    let v = levels[c % 3];
                    c /= 3;
                    v
                })
                .collect();
            let (steps, success, optimal) = run_oracle(&mut env, code as u64, &task);
            assert!(success, "oracle failed on {task:?} ({level:?})");
            assert_eq!(steps, optimal, "oracle not optimal on {task:?} ({level:?})");
            forms += 1;
        }
        assert_eq!(forms, 19683);
    }
}

/// Whether some element in view holds field `j`'s value (exact match and filled).
fn held_in_view(obs: &WebFormObs, config: &WebFormConfig, j: usize) -> bool {
    let e_cap = config.max_elements;
    (0..e_cap).any(|e| {
        obs.dom_mask[e] == 1
            && obs.match_feat[(j * e_cap + e) * MATCH_FEATURES + 2] == 1.0
            && obs.dom_feat[e * ELEMENT_FEATURES + FILLED_FEATURE] == 1.0
    })
}

/// The hard forms' caps (examples/configs/webform_hard_random.toml) over the whole task box.
fn hard_form_caps() -> WebFormConfig {
    WebFormConfig {
        max_fields: 8,
        max_pages: 2,
        max_distractors: 8,
        max_elements: 72,
        task_low: vec![0.0; TASK_DIMS],
        ..WebFormConfig::default()
    }
}

#[test]
fn instr_placed_counts_values_on_every_page_not_only_in_view() {
    let config = hard_form_caps();
    let mut env = WebFormEnv::new(config.clone()).unwrap();
    let (mut out_of_view, mut two_page_forms) = (0, 0);
    for seed in 0..30 {
        let (mut obs, _) = env.reset(Some(seed), &every_field(0.9)).unwrap();
        let fields = obs.instr_mask.iter().filter(|&&m| m == 1).count();
        two_page_forms += usize::from(env.form().unwrap().pages.len() == 2);
        loop {
            let step = env.step(&env.oracle_action().unwrap()).unwrap();
            if step.terminated {
                assert_eq!(step.info.get("success"), Some(1.0));
                // Submitted with every value placed.
                assert!(
                    obs.instr_placed[..fields].iter().all(|&p| p == 1),
                    "seed {seed}"
                );
                break;
            }
            for j in 0..fields {
                // The oracle never erases a right value, and what is in view is placed.
                assert!(
                    step.obs.instr_placed[j] >= obs.instr_placed[j],
                    "seed {seed} field {j}"
                );
                if held_in_view(&step.obs, &config, j) {
                    assert_eq!(step.obs.instr_placed[j], 1, "seed {seed} field {j}");
                } else if step.obs.instr_placed[j] == 1 && step.obs.progress[1] > 0.0 {
                    out_of_view += 1;
                }
            }
            assert!(step.obs.instr_placed[fields..].iter().all(|&p| p == 0));
            obs = step.obs;
        }
    }
    assert!(two_page_forms >= 10, "{two_page_forms} two-page forms");
    // On page 2, page 1's values are out of view but still placed.
    assert!(out_of_view >= 20, "{out_of_view} placed values out of view");
}

/// Rows of `obs.dom_feat` whose `invalid` mark is set.
fn marked_elements(obs: &WebFormObs) -> Vec<usize> {
    (0..obs.dom_mask.len())
        .filter(|&e| obs.dom_feat[e * ELEMENT_FEATURES + INVALID_FEATURE] == 1.0)
        .collect()
}

#[test]
fn a_refused_next_marks_the_empty_required_widgets_until_they_are_filled() {
    let config = hard_form_caps();
    let mut env = WebFormEnv::new(config).unwrap();
    let mut checked = 0;
    for seed in 0..40 {
        let (obs, _) = env.reset(Some(seed), &every_field(0.9)).unwrap();
        let form = env.form().unwrap().clone();
        if form.pages.len() < 2 {
            continue;
        }
        assert!(
            marked_elements(&obs).is_empty(),
            "seed {seed}: marked at reset"
        );
        let slot_of = |role: Role| form.pages[0].elements.iter().position(|e| e.role == role);
        let next = slot_of(Role::Button(ButtonRole::Next)).unwrap();
        let step = env.step(&env.encode_action(next, None)).unwrap();
        assert_eq!(
            env.state().unwrap().page,
            0,
            "seed {seed}: Next went through"
        );
        // Exactly the elements of page 1's required (targeted) widgets left empty (a cold
        // start may have pre-filled some) are marked.
        let state = env.state().unwrap();
        let required: Vec<usize> = (0..form.widgets.len())
            .filter(|&w| form.widgets[w].page == 0 && form.widgets[w].target.is_some())
            .filter(|&w| !Form::is_filled(&state.widgets[w]))
            .collect();
        let expected: Vec<usize> = (0..form.pages[0].elements.len())
            .filter(|&i| match form.pages[0].elements[i].role {
                Role::Input(w) | Role::GroupOption { widget: w, .. } => required.contains(&w),
                _ => false,
            })
            .collect();
        assert!(!expected.is_empty(), "seed {seed}");
        assert_eq!(marked_elements(&step.obs), expected, "seed {seed}");
        let page_state = env.page_state().unwrap();
        assert_eq!(
            page_state["invalid"],
            serde_json::json!(required),
            "seed {seed}"
        );
        // The oracle fills page 1: each mark goes as its widget fills; then Next goes through
        // and page 2 starts unmarked.
        let mut obs = step.obs;
        while env.state().unwrap().page == 0 {
            let step = env.step(&env.oracle_action().unwrap()).unwrap();
            let state = env.state().unwrap();
            if state.page == 0 {
                for &w in &required {
                    let filled = Form::is_filled(&state.widgets[w]);
                    assert_eq!(
                        form.marked_invalid(state, w),
                        !filled,
                        "seed {seed} widget {w}"
                    );
                }
            }
            obs = step.obs;
        }
        assert!(
            marked_elements(&obs).is_empty(),
            "seed {seed}: marks on page 2"
        );
        assert!(!env.state().unwrap().validation_shown);
        checked += 1;
    }
    assert!(checked >= 10, "{checked} two-page forms");
}

#[test]
fn reset_clears_the_validation_marks() {
    let mut env = env(InteractionLevel::Semantic);
    let mut checked = 0;
    for seed in 0..200 {
        let (_, _) = env.reset(Some(seed), &every_field(1.0)).unwrap();
        let form = env.form().unwrap().clone();
        let slot_of = |role: Role| form.pages[0].elements.iter().position(|e| e.role == role);
        let (Some(next), Some(reset)) = (
            slot_of(Role::Button(ButtonRole::Next)),
            slot_of(Role::Button(ButtonRole::Reset)),
        ) else {
            continue;
        };
        let step = env.step(&env.encode_action(next, None)).unwrap();
        assert!(!marked_elements(&step.obs).is_empty(), "seed {seed}");
        let step = env.step(&env.encode_action(reset, None)).unwrap();
        assert!(marked_elements(&step.obs).is_empty(), "seed {seed}");
        assert!(!env.state().unwrap().validation_shown);
        checked += 1;
    }
    assert!(
        checked >= 3,
        "{checked} forms with Next and Reset on page 1"
    );
}

#[test]
fn optimal_steps_grow_with_fields_pages_complexity_cold_start_and_goal_coverage() {
    // Means over seeds of the oracle's step count, which the generator documents as growing
    // along these axes (at the widget level, where widget complexity costs steps).
    let mut env = env(InteractionLevel::Widget);
    let mean_optimal = |env: &mut WebFormEnv, axis: usize, value: f64| {
        let mut task = every_field(0.3);
        task[axis] = value;
        let total: u32 = (0..300)
            .map(|s| {
                env.reset(Some(s), &task).unwrap();
                env.optimal_steps().unwrap()
            })
            .sum();
        f64::from(total) / 300.0
    };
    for axis in [0, 1, 3, 7, GOAL_COVERAGE_DIM] {
        let means: Vec<f64> = [0.0, 0.5, 1.0]
            .iter()
            .map(|&v| mean_optimal(&mut env, axis, v))
            .collect();
        assert!(
            means[0] < means[1] && means[1] < means[2],
            "axis {axis}: mean optimal steps {means:?}"
        );
    }
}

#[test]
fn goal_coverage_names_a_subset_of_the_targets_and_leaves_the_form_unchanged() {
    // QWeb's goal simulation: for one seed, lowering `goal_coverage` keeps every page, widget
    // and value; the instruction names `max(1, sround(θ·F))` of the F targets (each with the
    // widget and value it has at θ = 1), the others become untargeted, and the oracle then
    // solves the sub-instruction in no more steps (in fewer once a field is dropped).
    let mut env = env(InteractionLevel::Semantic);
    let mut full_task = every_field(0.6);
    full_task[7] = 1.0; // no warm start: every named field costs steps
    let (mut fewer, mut named_total) = (0, 0);
    for seed in 0..200 {
        let (steps_full, success, _) = run_oracle(&mut env, seed, &full_task);
        assert!(success);
        let full = env.form().unwrap().clone();
        let f = full.fields.len();
        for coverage in [0.0, 0.3, 0.7] {
            let mut task = full_task.clone();
            task[GOAL_COVERAGE_DIM] = coverage;
            let (steps, success, _) = run_oracle(&mut env, seed, &task);
            assert!(success, "oracle failed at coverage {coverage}, seed {seed}");
            let form = env.form().unwrap();
            let expected = coverage * f as f64;
            let k = form.fields.len();
            assert!(
                k >= 1 && k <= f && (k as f64 - expected.max(1.0)).abs() < 1.0,
                "seed {seed}: {k} named of {f} at coverage {coverage}"
            );
            assert_eq!(form.pages, full.pages, "seed {seed}: the pages changed");
            assert_eq!(form.widgets.len(), full.widgets.len());
            for (w, (a, b)) in form.widgets.iter().zip(&full.widgets).enumerate() {
                assert_eq!((a.kind, &a.options, a.page), (b.kind, &b.options, b.page));
                // A widget the sub-instruction names is a target of the full one too.
                if let Some(j) = a.target {
                    let named = &form.fields[j];
                    assert_eq!(named.widget, w);
                    let original = &full.fields[b.target.expect("named widgets are targets")];
                    assert_eq!((named.key, named.value), (original.key, original.value));
                }
            }
            let targeted = form.widgets.iter().filter(|w| w.target.is_some()).count();
            assert_eq!(targeted, k);
            assert!(steps <= steps_full, "seed {seed}: {steps} > {steps_full}");
            fewer += u32::from(k < f && steps < steps_full);
            named_total += k;
        }
    }
    assert!(
        fewer > 300,
        "fewer steps in only {fewer} of 600 sub-instructions"
    );
    assert!(named_total > 600, "{named_total}");
    // θ = 0 names exactly one field; θ = 1 every one.
    let mut task = every_field(0.8);
    task[GOAL_COVERAGE_DIM] = 0.0;
    for seed in 0..20 {
        env.reset(Some(seed), &task).unwrap();
        assert_eq!(env.form().unwrap().fields.len(), 1);
    }
}

/// FNV-1a digest of the HTML pages (instruction, every page, initial state; without the
/// widgets' script) of 400 forms at
/// `goal_coverage = 1`, on a spread of the other 8 axes, both interaction levels, seeds 0–39.
/// The value was computed by the generator before `goal_coverage` existed (on 8-value tasks);
/// the axis leaves these forms, and so the test sets written before it, unchanged bit for bit.
#[test]
fn forms_at_full_goal_coverage_are_those_of_the_8_axis_space() {
    // Pinned before the goal-coverage axis existed, on the whole page; re-pinned without the
    // script when the validation marks came (2026-12-07), after checking that the old page
    // text, rebuilt from the new one, still gave the old digest.
    const DIGEST_BEFORE_GOAL_COVERAGE: u64 = 0x2c31_7355_4628_e88d;
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
        let config = WebFormConfig {
            interaction_level: level,
            ..WebFormConfig::default()
        };
        for (k, v) in [0.0, 0.3, 0.55, 0.8, 1.0].iter().enumerate() {
            for seed in 0..40u64 {
                let mut task: Vec<f64> = (0..8)
                    .map(|i| (v + 0.07 * i as f64 * k as f64) % 1.0)
                    .collect();
                task.push(1.0);
                let mut rng = Pcg64::seed_from_u64(seed);
                let form = generate(&config, &task, &mut rng).unwrap();
                // The page's script is left out: it implements the widgets, not the form.
                let html = form_html(&form, &form.initial_state()).replace(PAGE_SCRIPT, "");
                for b in html.bytes() {
                    digest ^= u64::from(b);
                    digest = digest.wrapping_mul(0x100_0000_01b3);
                }
            }
        }
    }
    assert_eq!(digest, DIGEST_BEFORE_GOAL_COVERAGE, "{digest:#018x}");
}

#[test]
fn goal_coverage_is_closed_at_one_by_default() {
    // The default task space is the 8-axis one the axis extends: `goal_coverage` in [1, 1].
    let config = WebFormConfig::default();
    let space = config.bounded_task_space().unwrap();
    assert_eq!(space.dim(), TASK_DIMS);
    assert_eq!(space.dims()[GOAL_COVERAGE_DIM].name, "goal_coverage");
    assert_eq!(space.low()[GOAL_COVERAGE_DIM], 1.0);
    assert_eq!(config.prior().unwrap().easy_task[GOAL_COVERAGE_DIM], 1.0);
    let mut env = WebFormEnv::new(config).unwrap();
    let mut task = every_field(0.5);
    task[GOAL_COVERAGE_DIM] = 0.5;
    let err = env.reset(Some(0), &task).unwrap_err();
    assert!(err.to_string().contains("goal_coverage"), "{err}");
    // A bound list of the 8-axis space is refused with a message saying what to append.
    let old = WebFormConfig {
        task_low: vec![0.0; 8],
        ..WebFormConfig::default()
    };
    let err = WebFormEnv::new(old).err().expect("8 bounds are refused");
    assert!(
        matches!(&err, Error::InvalidConfig { field, .. } if field == "task_low")
            && err.to_string().contains("append 1"),
        "{err}"
    );
}

/// Success rate of a uniformly random valid-action policy over `episodes` seeds.
fn random_success(env: &mut WebFormEnv, task: &[f64], episodes: u64, rng: &mut Pcg64) -> f64 {
    let mut wins = 0;
    for seed in 0..episodes {
        let (mut obs, _) = env.reset(Some(seed), task).unwrap();
        loop {
            let valid: Vec<usize> = obs
                .action_mask
                .iter()
                .enumerate()
                .filter(|(_, &m)| m == 1)
                .map(|(a, _)| a)
                .collect();
            let a = valid[rng.random_range(0..valid.len())];
            let step = env.step(&a).unwrap();
            if step.terminated || step.truncated {
                wins += u32::from(step.info.get("success") == Some(1.0));
                break;
            }
            obs = step.obs;
        }
    }
    f64::from(wins) / episodes as f64
}

#[test]
fn a_random_policy_does_not_succeed_more_often_along_any_axis() {
    // Base task: an easy form, so a random policy succeeds often enough to measure.
    // Axes 4-6 (instruction noise, label ambiguity, order shuffle) change only words and
    // order: the generator draws them from a separate stream, so with the same seed the pages,
    // widgets, values and pre-filled fields are the same (without distractors, which label
    // ambiguity can turn into confusable siblings). A random policy over valid actions then sees
    // the same valid actions in the same order with the same effects along axes 4 and 5, so its
    // success is exactly unchanged; along axis 6 the fields are renumbered, so it is unchanged
    // in distribution (checked within 4 standard errors). Along the other axes success must
    // not rise by more than 3 standard errors between neighbours and must fall end to end.
    let base = [0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 1.0];
    let episodes = 1500;
    for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
        let mut env = env(level);
        for axis in 0..TASK_DIMS {
            let rates: Vec<f64> = [0.0, 0.5, 1.0]
                .iter()
                .map(|&v| {
                    let mut task = base.to_vec();
                    task[axis] = v;
                    let mut rng = Pcg64::seed_from_u64(99);
                    random_success(&mut env, &task, episodes, &mut rng)
                })
                .collect();
            let se = |p: f64| (2.0 * p * (1.0 - p) / episodes as f64).sqrt();
            if (4..=5).contains(&axis) {
                assert_eq!(rates[0], rates[1], "axis {axis} {level:?}: {rates:?}");
                assert_eq!(rates[0], rates[2], "axis {axis} {level:?}: {rates:?}");
                continue;
            }
            if axis == 6 {
                for r in &rates[1..] {
                    assert!(
                        (r - rates[0]).abs() <= 4.0 * se(rates[0]),
                        "axis 6 {level:?}: {rates:?}"
                    );
                }
                continue;
            }
            for w in rates.windows(2) {
                assert!(
                    w[1] <= w[0] + 3.0 * se(0.5 * (w[0] + w[1])),
                    "axis {axis} {level:?}: success rose {rates:?}"
                );
            }
            assert!(
                rates[2] < rates[0],
                "axis {axis} {level:?}: no decrease {rates:?}"
            );
        }
    }
}

#[test]
fn lexical_matching_gets_harder_with_noise_and_ambiguity() {
    // Axes 4 and 5 are about language: the fraction of targeted fields whose best key-overlap
    // element (match feature 0) is the target's own label or input must fall along them.
    let mut env = env(InteractionLevel::Semantic);
    let hit_rate = |env: &mut WebFormEnv, axis: usize, v: f64| {
        let mut task = every_field(0.3);
        task[axis] = v;
        let (mut hits, mut total) = (0, 0);
        for seed in 0..300 {
            let (obs, _) = env.reset(Some(seed), &task).unwrap();
            let form = env.form().unwrap();
            let e_cap = env.config().max_elements;
            for (j, field) in form.fields.iter().enumerate() {
                let widget = &form.widgets[field.widget];
                if widget.page != 0 {
                    continue;
                }
                let best = (0..e_cap)
                    .max_by(|&a, &b| {
                        let ma = obs.match_feat[(j * e_cap + a) * 3];
                        let mb = obs.match_feat[(j * e_cap + b) * 3];
                        ma.total_cmp(&mb).then(b.cmp(&a))
                    })
                    .unwrap();
                let own = obs.match_feat[(j * e_cap + best) * 3] > 0.0
                    && form.pages[0].elements[best].parent
                        == form.pages[0].elements[widget.element].parent;
                hits += u32::from(own);
                total += 1;
            }
        }
        f64::from(hits) / f64::from(total)
    };
    for axis in [4, 5] {
        let rates: Vec<f64> = [0.0, 0.5, 1.0]
            .iter()
            .map(|&v| hit_rate(&mut env, axis, v))
            .collect();
        assert!(
            rates[0] > rates[1] && rates[1] > rates[2],
            "axis {axis}: {rates:?}"
        );
    }
}

#[test]
fn order_shuffle_breaks_the_positional_shortcut() {
    // Fraction of fields whose instruction index equals their rank in document order.
    let mut env = env(InteractionLevel::Semantic);
    let rates: Vec<f64> = [0.0, 0.5, 1.0]
        .iter()
        .map(|&v| {
            let mut task = every_field(0.6);
            task[6] = v;
            let (mut same, mut total) = (0, 0);
            for seed in 0..300 {
                env.reset(Some(seed), &task).unwrap();
                let form = env.form().unwrap();
                let mut doc: Vec<usize> = (0..form.fields.len()).collect();
                doc.sort_by_key(|&f| {
                    let w = &form.widgets[form.fields[f].widget];
                    (w.page, w.element)
                });
                same += doc.iter().enumerate().filter(|(i, &f)| *i == f).count();
                total += doc.len();
            }
            same as f64 / total as f64
        })
        .collect();
    assert_eq!(rates[0], 1.0);
    assert!(rates[1] < rates[0] && rates[2] < rates[1], "{rates:?}");
}

/// Discounted and undiscounted sums of the shaping terms and Φ at both ends of an episode.
fn shaping_run(
    env: &mut WebFormEnv,
    seed: u64,
    task: &[f64],
    random: bool,
) -> (f64, f64, f64, f64, u32, bool) {
    let (_, info) = env.reset(Some(seed), task).unwrap();
    let gamma = env.config().gamma;
    let phi0 = info.get("potential").unwrap();
    let mut rng = Pcg64::seed_from_u64(seed);
    let (mut disc, mut plain, mut g) = (0.0, 0.0, 1.0);
    loop {
        let a = if random {
            let mask = env.action_mask().unwrap();
            let valid: Vec<usize> = (0..mask.len()).filter(|&a| mask[a] == 1).collect();
            valid[rng.random_range(0..valid.len())]
        } else {
            env.oracle_action().unwrap()
        };
        let step = env.step(&a).unwrap();
        let shaping = step.info.get("shaping").unwrap();
        assert!(
            (step.reward - step.info.get("task_reward").unwrap() - shaping).abs() < 1e-12,
            "reward = task reward + shaping"
        );
        disc += g * shaping;
        plain += shaping;
        g *= gamma;
        if step.terminated || step.truncated {
            let phi_t = step.info.get("potential").unwrap();
            return (
                disc,
                plain,
                phi0,
                phi_t,
                step.info.episode.unwrap().length,
                step.truncated,
            );
        }
    }
}

#[test]
fn shaping_telescopes_to_the_documented_closed_form() {
    for (mode, gamma) in [
        (ShapingMode::Ng, 0.9),
        (ShapingMode::Ng, 1.0),
        (ShapingMode::Qweb, 0.9),
    ] {
        let mut env = WebFormEnv::new(WebFormConfig {
            shaping: mode,
            gamma,
            shaping_coef: 1.0,
            ..WebFormConfig::default()
        })
        .unwrap();
        let mut saw_truncation = false;
        for seed in 0..200 {
            let task = [0.4, 0.3, 0.2, 0.3, 0.1, 0.1, 0.1, 0.5, 1.0];
            let (disc, plain, phi0, phi_t, length, truncated) =
                shaping_run(&mut env, seed, &task, seed % 2 == 0);
            saw_truncation |= truncated;
            match mode {
                // Σ γ^t F_t = γ^T Φ(s_T) [truncated] − Φ(s_0).
                ShapingMode::Ng => {
                    let end = if truncated {
                        gamma.powi(length as i32) * phi_t
                    } else {
                        0.0
                    };
                    assert!(
                        (disc - (end - phi0)).abs() < 1e-9,
                        "{disc} vs {}",
                        end - phi0
                    );
                }
                // Σ F_t = γ (Φ(s_T) − Φ(s_0)).
                _ => assert!((plain - gamma * (phi_t - phi0)).abs() < 1e-9),
            }
        }
        assert!(
            saw_truncation,
            "the random runs should reach the step limit sometimes"
        );
    }
    // No shaping: the reward is the task reward.
    let mut env = WebFormEnv::new(WebFormConfig {
        shaping: ShapingMode::None,
        ..WebFormConfig::default()
    })
    .unwrap();
    let (disc, ..) = shaping_run(&mut env, 1, &every_field(0.5), false);
    assert_eq!(disc, 0.0);
}

fn trace(env: &mut WebFormEnv, seed: u64, task: &[f64]) -> (Vec<f32>, Vec<f64>, String) {
    let (obs, _) = env.reset(Some(seed), task).unwrap();
    let mut flat = obs.to_flat();
    let mut rewards = Vec::new();
    let mut rng = Pcg64::seed_from_u64(seed ^ 0xabc);
    for _ in 0..40 {
        let a = rng.random_range(0..env.n_actions());
        let step = env.step(&a).unwrap();
        flat.extend(step.obs.to_flat());
        rewards.push(step.reward);
        rewards.extend(step.info.values.iter().map(|(_, v)| *v));
        if step.terminated || step.truncated {
            break;
        }
    }
    let frame = env.render().unwrap();
    rewards.push(frame.data.iter().map(|&b| f64::from(b)).sum());
    (flat, rewards, env.html().unwrap())
}

#[test]
fn same_seed_task_and_actions_give_bit_identical_runs() {
    let task = [0.7, 0.6, 0.5, 0.6, 0.7, 0.6, 0.5, 0.7, 1.0];
    for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
        let mut a = env(level);
        let mut b = env(level);
        // Interleave another episode in `b` to show a seeded reset forgets the past.
        b.reset(Some(5), &every_field(0.2)).unwrap();
        let (fa, ra, ha) = trace(&mut a, 3, &task);
        let (fb, rb, hb) = trace(&mut b, 3, &task);
        assert_eq!(
            fa.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            fb.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(
            ra.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            rb.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(ha, hb);
        let (fc, _, _) = trace(&mut a, 4, &task);
        assert_ne!(fa, fc);
    }
}

#[test]
fn bad_input_gives_typed_errors_and_invalid_actions_are_no_ops() {
    let mut e = env(InteractionLevel::Semantic);
    assert_eq!(e.step(&0).unwrap_err(), Error::ResetNeeded { call: "step" });
    assert_eq!(
        e.render().unwrap_err(),
        Error::ResetNeeded { call: "render" }
    );
    assert_eq!(e.html().unwrap_err(), Error::ResetNeeded { call: "html" });
    assert!(matches!(
        e.reset(None, &[0.5; 7]),
        Err(Error::TaskDimension {
            expected: 9,
            got: 7,
            ..
        })
    ));
    assert!(matches!(
        e.reset(None, &[0.5, 0.5, 1.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0]),
        Err(Error::TaskOutOfBounds { ref dim, .. }) if dim == "distractors"
    ));
    assert!(matches!(
        e.reset(None, &[f64::NAN, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0]),
        Err(Error::TaskOutOfBounds { .. })
    ));
    let (obs, _) = e.reset(Some(1), &every_field(0.5)).unwrap();
    let n = e.n_actions();
    assert_eq!(
        e.step(&n).unwrap_err(),
        Error::ActionOutOfRange { value: n as i64, n }
    );
    assert_eq!(
        e.elapsed_steps(),
        0,
        "a rejected action does not cost a step"
    );
    // An in-range but invalid action: a no-op that costs a step.
    let invalid = obs.action_mask.iter().position(|&m| m == 0).unwrap();
    let before = e.state().unwrap().clone();
    let step = e.step(&invalid).unwrap();
    assert_eq!(step.info.get("invalid_action"), Some(1.0));
    assert_eq!(e.state().unwrap(), &before);
    assert_eq!(e.elapsed_steps(), 1);
    assert_eq!(step.obs.dom_tokens, obs.dom_tokens);
    // Typing a field index beyond the form's fields is invalid too.
    let n_fields = e.form().unwrap().fields.len();
    let text_slot = (0..e.config().max_elements)
        .find(|&s| obs.action_mask[e.encode_action(s, Some(0))] == 1)
        .unwrap();
    assert_eq!(
        obs.action_mask[e.encode_action(text_slot, Some(n_fields))],
        0
    );
    // Penalty for invalid actions.
    let mut p = WebFormEnv::new(WebFormConfig {
        invalid_action_penalty: 0.25,
        shaping: ShapingMode::None,
        ..WebFormConfig::default()
    })
    .unwrap();
    p.reset(Some(1), &every_field(0.5)).unwrap();
    assert_eq!(p.step(&invalid).unwrap().reward, -0.25);

    // Malformed configs.
    let bad = [
        WebFormConfig {
            max_fields: 0,
            ..Default::default()
        },
        WebFormConfig {
            max_fields: 17,
            ..Default::default()
        },
        WebFormConfig {
            max_pages: 0,
            ..Default::default()
        },
        WebFormConfig {
            max_elements: 20,
            ..Default::default()
        },
        WebFormConfig {
            tokens_per_string: 9,
            ..Default::default()
        },
        WebFormConfig {
            instruction_tokens: 0,
            ..Default::default()
        },
        WebFormConfig {
            gamma: 0.0,
            ..Default::default()
        },
        WebFormConfig {
            gamma: f64::NAN,
            ..Default::default()
        },
        WebFormConfig {
            shaping_coef: f64::INFINITY,
            ..Default::default()
        },
        WebFormConfig {
            invalid_action_penalty: -1.0,
            ..Default::default()
        },
        WebFormConfig {
            step_slack: 0.5,
            ..Default::default()
        },
        WebFormConfig {
            interaction_level: InteractionLevel::Widget,
            max_elements: 100,
            ..Default::default()
        },
    ];
    for config in bad {
        assert!(
            matches!(
                WebFormEnv::new(config.clone()),
                Err(Error::InvalidConfig { .. })
            ),
            "{config:?} accepted"
        );
    }
    let err = WebFormEnv::new(WebFormConfig {
        max_fields: 17,
        ..Default::default()
    })
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("max_fields") && err.to_string().contains("17"),
        "{err}"
    );
    // The generator on its own validates too.
    let mut rng = Pcg64::seed_from_u64(0);
    assert!(matches!(
        generate(&WebFormConfig::default(), &[0.5; 7], &mut rng),
        Err(Error::TaskDimension { .. })
    ));
    assert!(matches!(
        generate(
            &WebFormConfig {
                max_pages: 0,
                ..Default::default()
            },
            &[0.5; 9],
            &mut rng
        ),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(generate(&WebFormConfig::default(), &[0.5; 9], &mut rng).is_ok());
    // Serde: unknown keys and bad enum values are rejected; a partial config takes defaults.
    assert!(serde_json::from_str::<WebFormConfig>(r#"{"max_feilds": 3}"#).is_err());
    assert!(serde_json::from_str::<WebFormConfig>(r#"{"interaction_level": "mouse"}"#).is_err());
    let c: WebFormConfig = serde_json::from_str(r#"{"max_fields": 3, "shaping": "qweb"}"#).unwrap();
    assert_eq!(
        (c.max_fields, c.shaping, c.max_elements),
        (3, ShapingMode::Qweb, 128)
    );

    // The multi-discrete variant.
    let mut md = WebFormMdEnv::new(WebFormConfig::default()).unwrap();
    md.reset(Some(1), &every_field(0.5)).unwrap();
    assert_eq!(
        md.step(&[0, 0]).unwrap_err(),
        Error::ActionDimension {
            expected: 3,
            got: 2
        }
    );
    assert!(matches!(
        md.step(&[0, 2, 0]),
        Err(Error::ActionOutOfRange { value: 2, n: 2 })
    ));
    assert!(matches!(
        md.step(&[128, 0, 0]),
        Err(Error::ActionOutOfRange { value: 128, n: 128 })
    ));
    assert!(matches!(
        md.step(&[0, 1, 12]),
        Err(Error::ActionOutOfRange { value: 12, n: 12 })
    ));
}

#[test]
fn steps_after_the_end_are_refused_and_truncation_is_reported() {
    let mut e = env(InteractionLevel::Widget);
    e.reset(Some(2), &every_field(0.5)).unwrap();
    let limit = e.max_steps().unwrap();
    // A masked-out action never ends the episode, so the run reaches the step limit.
    let invalid = e
        .action_mask()
        .unwrap()
        .iter()
        .position(|&m| m == 0)
        .unwrap();
    for t in 1..=limit {
        let step = e.step(&invalid).unwrap();
        assert_eq!(step.truncated, t == limit);
        assert!(!step.terminated);
        if step.truncated {
            assert_eq!(step.info.get("task_reward"), Some(-1.0));
            let summary = step.info.episode.unwrap();
            assert_eq!(summary.length, limit);
            assert!(!summary.success);
        }
    }
    assert_eq!(e.step(&invalid).unwrap_err(), Error::EpisodeEnded);
}

fn check_in_space(obs: &WebFormObs, space: &Space) {
    let Space::Dict(entries) = space else {
        panic!("not a dict")
    };
    let arrays: Vec<Vec<f64>> = vec![
        obs.instr_key.iter().map(|&v| v as f64).collect(),
        obs.instr_val.iter().map(|&v| v as f64).collect(),
        obs.instr_mask.iter().map(|&v| f64::from(v)).collect(),
        obs.instr_text.iter().map(|&v| v as f64).collect(),
        obs.dom_tokens.iter().map(|&v| v as f64).collect(),
        obs.dom_feat.iter().map(|&v| f64::from(v)).collect(),
        obs.dom_mask.iter().map(|&v| f64::from(v)).collect(),
        obs.match_feat.iter().map(|&v| f64::from(v)).collect(),
        obs.action_mask.iter().map(|&v| f64::from(v)).collect(),
        obs.instr_placed.iter().map(|&v| f64::from(v)).collect(),
        obs.progress.iter().map(|&v| f64::from(v)).collect(),
    ];
    assert_eq!(entries.len(), arrays.len());
    for ((name, sub), values) in entries.iter().zip(&arrays) {
        let b = sub.as_box().unwrap();
        assert!(b.contains(values), "{name} outside its space");
    }
    assert_eq!(obs.to_flat().len(), space.flat_len());
    // `entries` lists the keys of the space, in order, with matching lengths and dtypes.
    for ((name, sub), (key, array)) in entries.iter().zip(obs.entries()) {
        assert_eq!(name, key);
        let b = sub.as_box().unwrap();
        assert_eq!(array.len(), b.len());
        let dtype_matches = matches!(
            (b.dtype(), array),
            (teachgym_core::DType::I64, ObsArray::I64(_))
                | (teachgym_core::DType::U8, ObsArray::U8(_))
                | (teachgym_core::DType::F32, ObsArray::F32(_))
        );
        assert!(dtype_matches, "{name}");
    }
}

#[test]
fn observations_stay_in_the_space_and_the_md_env_matches_the_flat_one() {
    for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
        let config = WebFormConfig {
            interaction_level: level,
            task_low: vec![0.0; TASK_DIMS],
            ..Default::default()
        };
        let mut flat = WebFormEnv::new(config.clone()).unwrap();
        let mut md = WebFormMdEnv::new(config).unwrap();
        assert_eq!(
            md.action_space(),
            &Space::MultiDiscrete {
                nvec: vec![128, 2, 12]
            }
        );
        let mut rng = Pcg64::seed_from_u64(8);
        for seed in 0..40 {
            let task: Vec<f64> = (0..TASK_DIMS).map(|_| rng.random::<f64>()).collect();
            let (obs, _) = flat.reset(Some(seed), &task).unwrap();
            let (obs_md, _) = md.reset(Some(seed), &task).unwrap();
            assert_eq!(obs, obs_md);
            check_in_space(&obs, flat.observation_space());
            for _ in 0..60 {
                // Mostly valid actions, so pop-ups and pages get exercised.
                let mask = flat.action_mask().unwrap();
                let valid: Vec<usize> = (0..mask.len()).filter(|&a| mask[a] == 1).collect();
                let a = if rng.random::<f64>() < 0.9 {
                    valid[rng.random_range(0..valid.len())]
                } else {
                    rng.random_range(0..flat.n_actions())
                };
                let s = flat.step(&a).unwrap();
                let s_md = md.step(&md.from_flat(a)).unwrap();
                assert_eq!(s, s_md);
                check_in_space(&s.obs, flat.observation_space());
                if s.terminated || s.truncated {
                    break;
                }
            }
        }
    }
}

#[test]
fn html_and_render_show_the_form() {
    let mut e = env(InteractionLevel::Widget);
    let (_, _) = e
        .reset(Some(4), &[0.6, 0.8, 0.4, 0.7, 0.2, 0.2, 0.2, 0.8, 1.0])
        .unwrap();
    let html = e.html().unwrap();
    let form = e.form().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert_eq!(html.matches("<section").count(), form.pages.len());
    for field in &form.fields {
        assert!(
            html.contains(&field.value.text()),
            "value {} missing",
            field.value.text()
        );
    }
    // Well-formed on many forms, with placeholder-only labels and groups among them.
    for seed in 0..50 {
        e.reset(Some(seed), &[0.9, 1.0, 0.8, 0.5, 0.5, 1.0, 0.5, 1.0, 1.0])
            .unwrap();
        let page = e.html().unwrap();
        for tag in [
            "div", "section", "label", "select", "datalist", "form", "dl",
        ] {
            assert_eq!(
                page.matches(&format!("<{tag}")).count(),
                page.matches(&format!("</{tag}>")).count(),
                "<{tag}> unbalanced (seed {seed})"
            );
        }
    }
    e.reset(Some(4), &[0.6, 0.8, 0.4, 0.7, 0.2, 0.2, 0.2, 0.8, 1.0])
        .unwrap();
    let frame = e.render().unwrap();
    assert_eq!(frame.data.len(), (frame.width * frame.height * 3) as usize);
    // Filling a field changes the picture.
    let a = e.oracle_action().unwrap();
    e.step(&a).unwrap();
    assert_ne!(e.render().unwrap(), frame);
}

#[test]
fn other_caps_work_and_random_play_never_breaks_the_env() {
    let configs = [
        WebFormConfig {
            max_fields: 16,
            max_pages: 9,
            max_distractors: 40,
            tokens_per_string: 8,
            max_elements: 160,
            ..Default::default()
        },
        WebFormConfig {
            max_fields: 1,
            max_pages: 1,
            max_elements: WebFormConfig {
                max_fields: 1,
                ..Default::default()
            }
            .min_elements(),
            ..Default::default()
        },
    ];
    for base in configs {
        for level in [InteractionLevel::Semantic, InteractionLevel::Widget] {
            let mut config = WebFormConfig {
                interaction_level: level,
                task_low: vec![0.0; TASK_DIMS],
                ..base.clone()
            };
            config.max_elements = config.max_elements.max(config.min_elements());
            let mut env = WebFormEnv::new(config).unwrap();
            let mut rng = Pcg64::seed_from_u64(21);
            for seed in 0..150 {
                let task: Vec<f64> = (0..TASK_DIMS).map(|_| rng.random::<f64>()).collect();
                let (steps, success, optimal) = run_oracle(&mut env, seed, &task);
                assert!(success && steps == optimal, "{task:?}");
                // Random valid play until the end, observations within the space.
                let (_, _) = env.reset(Some(seed), &task).unwrap();
                loop {
                    let mask = env.action_mask().unwrap();
                    let valid: Vec<usize> = (0..mask.len()).filter(|&a| mask[a] == 1).collect();
                    let step = env.step(&valid[rng.random_range(0..valid.len())]).unwrap();
                    if step.terminated || step.truncated {
                        check_in_space(&step.obs, env.observation_space());
                        break;
                    }
                }
            }
        }
    }
}

#[test]
fn calendars_stop_at_the_ends_of_the_date_range() {
    let mut e = WebFormEnv::new(WebFormConfig {
        interaction_level: InteractionLevel::Widget,
        step_slack: 50.0,
        extra_steps: 500,
        ..Default::default()
    })
    .unwrap();
    // A form whose first page has a date input.
    let task = [0.3, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    let (seed, date_slot) = (0..200)
        .find_map(|seed| {
            e.reset(Some(seed), &task).unwrap();
            let form = e.form().unwrap();
            form.pages[0]
                .elements
                .iter()
                .position(|el| el.kind == teachgym_envs::webform::ElementKind::DateInput)
                .map(|slot| (seed, slot))
        })
        .expect("some form has a date input");
    e.reset(Some(seed), &task).unwrap();
    let page_len = e.form().unwrap().pages[0].elements.len();
    e.step(&e.encode_action(date_slot, None)).unwrap();
    let view = e.text_view().unwrap();
    assert!(
        view.contains(&format!("[{}]     popup \"next\" [click]", page_len + 2)),
        "{view}"
    );
    for (button, clicks) in [(2, 80), (1, 160)] {
        for _ in 0..clicks {
            let step = e.step(&e.encode_action(page_len + button, None)).unwrap();
            assert_eq!(step.info.get("invalid_action"), Some(0.0));
        }
        let Some(teachgym_envs::webform::Popup::Calendar { month_index, .. }) =
            e.state().unwrap().popup.clone()
        else {
            panic!("calendar closed");
        };
        let expected = if button == 2 {
            2028 * 12 + 11
        } else {
            2025 * 12
        };
        assert_eq!(month_index, expected);
    }
    // Picking the first day sets the date to 1 January 2025.
    e.step(&e.encode_action(
        page_len + teachgym_envs::webform::CALENDAR_FIRST_DAY_SLOT,
        None,
    ))
    .unwrap();
    let page = e.page_state().unwrap();
    let dates: Vec<&serde_json::Value> = page["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "date")
        .map(|w| &w["value"])
        .collect();
    assert!(dates.contains(&&serde_json::json!("2025-01-01")), "{page}");
}

/// A hand-written policy that reads only the observation (as a learner would): for the first
/// instruction field that no element shows as entered, it clicks the option offering the value
/// or types into the input whose row best matches the key (QWeb's word-overlap features plus the
/// parent indices), and presses Next/Submit when no visible field is left. Semantic level only.
fn lexical_action(obs: &WebFormObs, config: &WebFormConfig) -> usize {
    use teachgym_envs::webform::{token_word, ElementKind, ATTRIBUTES, ELEMENT_FEATURES};
    let (e_cap, f_cap, t) = (
        config.max_elements,
        config.max_fields,
        config.tokens_per_string,
    );
    let k = ELEMENT_FEATURES;
    let kinds = ElementKind::COUNT;
    let real = |e: usize| obs.dom_mask[e] == 1;
    let feat = |e: usize, i: usize| obs.dom_feat[e * k + i];
    let is = |e: usize, kind: ElementKind| feat(e, kind as usize) == 1.0;
    let m = |j: usize, e: usize, c: usize| obs.match_feat[(j * e_cap + e) * 3 + c];
    let parent = |e: usize| (feat(e, kinds + 6) * e_cap as f32).round() as usize;
    let filled = |e: usize| feat(e, kinds + 2) == 1.0;
    let option = |e: usize| is(e, ElementKind::Radio) || is(e, ElementKind::Checkbox);
    let typable = |e: usize| feat(e, kinds + 1) == 1.0;
    let row_score = |j: usize, e: usize| {
        (0..e_cap)
            .filter(|&x| real(x) && (x == e || parent(x) == parent(e)))
            .map(|x| m(j, x, 0))
            .fold(0.0f32, f32::max)
    };
    let n_fields = obs.instr_mask.iter().filter(|&&v| v == 1).count();
    for j in 0..n_fields {
        let done = (0..e_cap).any(|e| real(e) && m(j, e, 2) == 1.0 && (!option(e) || filled(e)));
        if done {
            continue;
        }
        let best = |candidates: &mut dyn Iterator<Item = usize>| {
            candidates
                .map(|e| (row_score(j, e), e))
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        };
        let click = best(&mut (0..e_cap).filter(|&e| real(e) && option(e) && m(j, e, 2) == 1.0));
        let typed = best(&mut (0..e_cap).filter(|&e| real(e) && typable(e)));
        match (click, typed) {
            (Some((s, e)), other) if other.is_none_or(|(o, _)| s >= o) => return e * (1 + f_cap),
            (_, Some((s, e))) if s >= 0.5 => return e * (1 + f_cap) + 1 + j,
            // Not on this page: look at the next field.
            _ => {}
        }
    }
    let button = (0..e_cap)
        .find(|&e| {
            real(e)
                && is(e, ElementKind::Button)
                && matches!(
                    token_word(obs.dom_tokens[(e * ATTRIBUTES + 1) * t] as u32),
                    "next" | "submit"
                )
        })
        .expect("every page has Next or Submit");
    button * (1 + f_cap)
}

#[test]
fn the_observation_suffices_to_solve_clean_forms_and_noise_and_ambiguity_hurt() {
    let config = WebFormConfig::default();
    let mut env = WebFormEnv::new(config.clone()).unwrap();
    let success = |env: &mut WebFormEnv, noise: f64, ambiguity: f64| {
        let task = [0.3, 0.6, 0.4, 0.6, noise, ambiguity, 1.0, 1.0, 1.0];
        let mut wins = 0;
        for seed in 0..300 {
            let (mut obs, _) = env.reset(Some(seed), &task).unwrap();
            loop {
                let step = env.step(&lexical_action(&obs, &config)).unwrap();
                if step.terminated || step.truncated {
                    wins += u32::from(step.info.get("success") == Some(1.0));
                    break;
                }
                obs = step.obs;
            }
        }
        f64::from(wins) / 300.0
    };
    let clean = success(&mut env, 0.0, 0.0);
    let noisy = success(&mut env, 1.0, 0.0);
    let ambiguous = success(&mut env, 0.0, 1.0);
    eprintln!("lexical policy success: clean {clean}, noisy {noisy}, ambiguous {ambiguous}");
    assert!(clean >= 0.95, "clean forms: {clean}");
    assert!(noisy < clean - 0.2, "noise: {noisy} vs {clean}");
    assert!(ambiguous < clean - 0.2, "ambiguity: {ambiguous} vs {clean}");
}

#[test]
fn envs_can_move_across_threads() {
    // Python bindings and vectorised runners hold envs in other threads.
    fn send_sync<T: Send + Sync>() {}
    send_sync::<WebFormEnv>();
    send_sync::<WebFormMdEnv>();
    send_sync::<std::sync::Arc<WebFormObs>>();
}

#[test]
fn task_bounds_restrict_the_task_space_and_the_trait_mask_is_the_observation_mask() {
    let config = WebFormConfig {
        task_low: vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        task_high: vec![0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        ..WebFormConfig::default()
    };
    let mut env = WebFormEnv::new(config.clone()).unwrap();
    assert_eq!(env.task_space().high()[0], 0.5);
    assert_eq!(env.task_space().low()[7], 1.0);
    assert!(Env::action_mask(&env).is_none(), "no mask before reset");
    let inside = [0.5, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    let (obs, _) = env.reset(Some(1), &inside).unwrap();
    let mask = Env::action_mask(&env).unwrap();
    let expected: Vec<bool> = obs.action_mask.iter().map(|&m| m == 1).collect();
    assert_eq!(mask, expected);
    let step = env.step(&env.oracle_action().unwrap()).unwrap();
    let expected: Vec<bool> = step.obs.action_mask.iter().map(|&m| m == 1).collect();
    assert_eq!(Env::action_mask(&env).unwrap(), expected);
    assert!(matches!(
        env.reset(Some(1), &[0.9, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]),
        Err(Error::TaskOutOfBounds { .. })
    ));
    for (low, high, field) in [
        (vec![0.0; 7], vec![1.0; TASK_DIMS], "task_low"),
        (vec![0.0; TASK_DIMS], vec![1.0; 10], "task_high"),
        (
            vec![0.6; TASK_DIMS],
            vec![0.5; TASK_DIMS],
            "task_low/task_high",
        ),
        (
            vec![-0.1; TASK_DIMS],
            vec![1.0; TASK_DIMS],
            "task_low/task_high",
        ),
        (
            vec![0.0; TASK_DIMS],
            vec![1.5; TASK_DIMS],
            "task_low/task_high",
        ),
    ] {
        let bad = WebFormConfig {
            task_low: low,
            task_high: high,
            ..WebFormConfig::default()
        };
        match WebFormEnv::new(bad) {
            Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {:?}", other.err()),
        }
    }
}
