//! Why a trained QWeb DQN fails the forms it fails: replays a run's greedy policy on a web-form
//! test set and sorts every episode's end (success, wrong submission, a decoy or link, the step
//! limit) and every targeted field's final correctness by widget kind, label variant and page.
//!
//! `cargo run --release -p teachgym-students --example qweb_failures -- RUN_DIR/checkpoint.json
//! [TEST_SET.csv]`: the env (its `[webform]` section) and the evaluation seed are the run's own,
//! read from the configuration inside the checkpoint; the test set defaults to the run's
//! `test_set.csv`. `--trace N` also prints, action by action, the first N episodes that end at
//! the step limit.

use std::collections::BTreeMap;
use std::path::Path;

use teachgym_core::Env;
use teachgym_envs::webform::{ButtonRole, Form, FormState, Role, Slot, WebFormConfig, WebFormEnv};
use teachgym_students::trainer::DEFAULT_EVAL_SEED;
use teachgym_students::{QwebDqnAgent, Student, TestSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut traces_left = 0usize;
    if let Some(at) = args.iter().position(|a| a == "--trace") {
        traces_left = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .ok_or("--trace takes a number of episodes")?;
        args.drain(at..at + 2);
    }
    let (checkpoint, test_set) = match args.as_slice() {
        [checkpoint] => {
            let run_dir = Path::new(checkpoint).parent().unwrap_or(Path::new("."));
            (checkpoint, run_dir.join("test_set.csv"))
        }
        [checkpoint, test_set] => (checkpoint, test_set.into()),
        _ => return Err("usage: qweb_failures CHECKPOINT [TEST_SET] [--trace N]".into()),
    };
    let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(checkpoint)?)?;
    let run_config: toml::Table = raw["config"]
        .as_str()
        .ok_or("the checkpoint holds no run configuration")?
        .parse()?;
    let config: WebFormConfig = match run_config.get("webform") {
        Some(section) => section.clone().try_into()?,
        None => WebFormConfig::default(),
    };
    let eval_seed = run_config
        .get("trainer")
        .and_then(|trainer| trainer.get("eval_seed"))
        .and_then(|seed| seed.as_integer())
        .map_or(DEFAULT_EVAL_SEED, |seed| seed as u64);
    let student = raw["trainer"]["student"]
        .as_str()
        .ok_or("the checkpoint holds no student")?;
    let mut agent = QwebDqnAgent::from_json(student)?;
    let mut env = WebFormEnv::new(config)?;
    let tests = TestSet::load(env.task_space(), &test_set)?;

    let mut endings: BTreeMap<String, usize> = BTreeMap::new();
    // category -> (correct, total) over the targeted fields of every episode's final state
    let mut fields: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut wrong_per_failed: BTreeMap<usize, usize> = BTreeMap::new();
    // step-limit episodes: the action repeated most in the last steps, and the page they end on
    let mut loops: BTreeMap<String, usize> = BTreeMap::new();
    // wrong targeted fields: what their widget holds and where their value went, per label kind
    let mut misses: BTreeMap<String, usize> = BTreeMap::new();
    for (j, task) in tests.tasks().iter().enumerate() {
        let (mut obs, _) = env.reset(Some(eval_seed + j as u64), task)?;
        let mut history: Vec<(usize, Option<usize>, Option<Role>)> = Vec::new();
        let mut trace: Vec<String> = Vec::new();
        let ending = loop {
            let mask: Vec<bool> = obs.action_mask.iter().map(|&m| m == 1).collect();
            let action =
                <QwebDqnAgent as Student<WebFormEnv>>::act_greedy(&mut agent, &obs, Some(&mask))?;
            let (slot, field) = env.decode_action(action);
            let clicked = {
                let (form, state) = (env.form()?, env.state()?);
                role_of(form, state, slot)
            };
            history.push((slot, field, clicked));
            if traces_left > 0 {
                let (form, state) = (env.form()?, env.state()?);
                trace.push(describe_action(form, state, slot, field, clicked));
            }
            let step = env.step(&action)?;
            obs = step.obs;
            if step.terminated || step.truncated {
                let success = step
                    .info
                    .values
                    .iter()
                    .any(|&(k, v)| k == "success" && v > 0.5);
                break if success {
                    "success".to_string()
                } else if step.truncated {
                    "step limit".to_string()
                } else {
                    match clicked {
                        Some(Role::Button(ButtonRole::Submit)) => "wrong submission".into(),
                        Some(Role::Button(b)) => format!("decoy {b:?}"),
                        Some(Role::Link) => "link".into(),
                        other => format!("other {other:?}"),
                    }
                };
            }
        };
        let (form, state) = (env.form()?, env.state()?);
        if ending == "step limit" && traces_left > 0 {
            traces_left -= 1;
            println!(
                "form {j}: {} fields on {} pages, {} steps:",
                form.fields.len(),
                form.pages.len(),
                history.len()
            );
            for line in &trace {
                println!("    {line}");
            }
        }
        if ending == "step limit" {
            let tail = &history[history.len().saturating_sub(6)..];
            let what = match tail.last() {
                Some((_, Some(_), _)) => "Type".to_string(),
                Some((_, None, Some(Role::Button(b)))) => format!("Click {b:?}"),
                Some((_, None, Some(role))) => format!("Click {role:?}")
                    .split('(')
                    .next()
                    .unwrap_or("Click")
                    .to_string(),
                _ => "Click pop-up".to_string(),
            };
            let distinct: std::collections::BTreeSet<_> =
                tail.iter().map(|(slot, field, _)| (slot, field)).collect();
            *loops
                .entry(format!(
                    "page {} of {}, last action {what}, {} distinct in the last 6",
                    state.page + 1,
                    form.pages.len(),
                    distinct.len()
                ))
                .or_default() += 1;
        }
        let mut wrong = 0;
        for (f, field) in form.fields.iter().enumerate() {
            if form.widgets[field.widget].target.is_none() {
                continue;
            }
            let ok = form.field_correct(state, f);
            wrong += usize::from(!ok);
            let widget = &form.widgets[field.widget];
            let page = form.pages[widget.page].elements.get(widget.element);
            let name = page.map(|e| e.name.as_ref()).unwrap_or("");
            let variant = if widget.placeholder_only {
                "placeholder only"
            } else if name.is_empty() {
                "label sibling only (no name)"
            } else if widget.label == field.key {
                "plain label"
            } else {
                "synonym/abbreviation"
            };
            let key = if field.shown_key.is_empty() {
                "key omitted"
            } else if field.shown_key == field.key {
                "key as is"
            } else {
                "key synonym"
            };
            if !ok {
                let held = form.widget_value(state, field.widget);
                let what = match held {
                    None => "its widget empty",
                    Some(v) if form.fields.iter().any(|g| g.value == v) => {
                        "its widget holds another field's value"
                    }
                    Some(_) => "its widget holds a wrong value",
                };
                let elsewhere = (0..form.widgets.len())
                    .any(|w| w != field.widget && form.widget_value(state, w) == Some(field.value));
                let placed = if elsewhere {
                    "its value in another widget"
                } else {
                    "its value nowhere"
                };
                *misses
                    .entry(format!("{variant}: {what}, {placed}"))
                    .or_default() += 1;
            }
            for category in [
                format!("kind {:?}", widget.kind),
                format!("label {variant}"),
                format!("instruction {key}"),
                format!("page {}", widget.page),
                "all".to_string(),
            ] {
                let entry = fields.entry(category).or_default();
                entry.0 += usize::from(ok);
                entry.1 += 1;
            }
        }
        if ending != "success" {
            *wrong_per_failed.entry(wrong).or_default() += 1;
        }
        *endings.entry(ending).or_default() += 1;
    }
    println!("episode endings over {} forms:", tests.len());
    for (ending, n) in &endings {
        println!(
            "  {ending:<28} {n:>4}  {:5.1} %",
            100.0 * *n as f64 / tests.len() as f64
        );
    }
    println!("failed episodes by number of wrong targeted fields at the end:");
    for (wrong, n) in &wrong_per_failed {
        println!("  {wrong} wrong: {n}");
    }
    println!("step-limit episodes:");
    for (what, n) in &loops {
        println!("  {what}: {n}");
    }
    println!("wrong targeted fields at the episode's end:");
    for (what, n) in &misses {
        println!("  {what}: {n}");
    }
    println!("targeted fields correct at the episode's end:");
    for (category, (ok, total)) in &fields {
        println!(
            "  {category:<36} {ok:>5} / {total:<5} {:5.1} %",
            100.0 * *ok as f64 / *total as f64
        );
    }
    Ok(())
}

/// One line per action: what was clicked, or which field was typed where and whether that
/// element is the field's own widget.
fn describe_action(
    form: &Form,
    state: &FormState,
    slot: usize,
    field: Option<usize>,
    clicked: Option<Role>,
) -> String {
    let widget_of = |role: Option<Role>| match role {
        Some(Role::Input(w)) | Some(Role::GroupOption { widget: w, .. }) => Some(w),
        _ => None,
    };
    let page = state.page + 1;
    match field {
        Some(f) => {
            let Some(target) = form.fields.get(f) else {
                return format!("p{page} Type slot {slot} <- field {f} (not in the instruction)");
            };
            let verdict = match widget_of(clicked) {
                Some(w) if w == target.widget => "own widget",
                Some(w) => {
                    if form.fields.iter().any(|g| g.widget == w) {
                        "ANOTHER FIELD'S WIDGET"
                    } else {
                        "UNTARGETED WIDGET"
                    }
                }
                None => "NOT A WIDGET",
            };
            let held = form.widget_value(state, target.widget);
            let status = if held == Some(target.value) {
                "already right"
            } else if held.is_none() {
                "empty"
            } else {
                "wrong"
            };
            format!(
                "p{page} Type `{}` into slot {slot} ({verdict}); its own widget was {status}",
                target.key
            )
        }
        None => format!("p{page} Click slot {slot} {clicked:?}"),
    }
}

fn role_of(form: &Form, state: &FormState, slot: usize) -> Option<Role> {
    match form.slot(state, slot)? {
        Slot::Page(i) => Some(form.pages[state.page].elements[i].role),
        Slot::Popup(_) => None,
    }
}
