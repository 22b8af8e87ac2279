//! Strategies shared by the property tests of the hardening harness (issue 22): wild numbers,
//! the case count, and mutations of JSON values and texts. Written once, included by path
//! (`#[path = "../../tests/support/strategies.rs"]`) from the envs', teachers' and students'
//! test suites. Not every suite uses every item.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

/// Seed of the property tests' case generator unless `PROPTEST_RNG_SEED` says otherwise: the test
/// suite draws the same cases on every run and machine, so a failure in CI reproduces; the long
/// searches of `scripts/fuzz.sh` draw new ones from a seed it prints.
pub const DEFAULT_PROPTEST_SEED: u64 = 22;

/// `cases` unless `PROPTEST_CASES` says otherwise (`scripts/fuzz.sh` sets it for long runs), drawn
/// from [`DEFAULT_PROPTEST_SEED`] unless `PROPTEST_RNG_SEED` says otherwise.
pub fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(DEFAULT_PROPTEST_SEED);
    }
    config
}

/// Mostly ordinary values, with the extremes and the non-finite ones often enough.
pub fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0..10.0f64,
        2 => -1e3..1e3f64,
        1 => prop::num::f64::ANY,
        2 => prop::sample::select(vec![
            0.0, -0.0, 1.0, 100.0, -100.0, 100.000_001, 1e39, -1e39, 1e300, f64::MAX, f64::MIN,
            f64::MIN_POSITIVE, 5e-324, f64::NAN, f64::INFINITY, f64::NEG_INFINITY,
        ]),
    ]
}

/// A `[low, high]` pair, ordered half of the time so that it is often a valid bound.
pub fn bound() -> impl Strategy<Value = [f64; 2]> {
    (wild_f64(), wild_f64(), any::<bool>())
        .prop_map(|(a, b, sort)| if sort && b < a { [b, a] } else { [a, b] })
}

/// Replacements for the numbers of a JSON value, in visiting order (`None` keeps one): each
/// number is replaced with probability `p`, by a small value half of the time.
pub fn number_replacements(p: f64) -> impl Strategy<Value = Vec<Option<f64>>> {
    let value = prop_oneof![1 => 0.0..20.0f64, 1 => wild_f64()];
    prop::collection::vec(prop::option::weighted(p, value), 64)
}

/// Mostly a value of `usual`, sometimes a wild one.
pub fn mostly(usual: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![4 => usual, 1 => wild_f64()]
}

/// Mostly an ordered pair within `usual`, sometimes any [`bound`].
pub fn mostly_bound(usual: std::ops::Range<f64>) -> impl Strategy<Value = [f64; 2]> {
    let ordered = (usual.clone(), usual).prop_map(|(a, b)| [a.min(b), a.max(b)]);
    prop_oneof![4 => ordered, 1 => bound()]
}

/// `value` with its numbers replaced by `numbers` in visiting order (integers by integers;
/// non-finite values, which JSON cannot hold, become `null`).
pub fn mutate_numbers(value: &mut Value, numbers: &mut impl Iterator<Item = Option<f64>>) {
    match value {
        Value::Number(n) => {
            if let Some(Some(x)) = numbers.next() {
                *value = if n.is_f64() {
                    json!(x)
                } else if x >= 0.0 {
                    json!(x.min(1e19) as u64)
                } else {
                    json!(x as i64)
                };
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| mutate_numbers(item, numbers)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| mutate_numbers(field, numbers)),
        _ => {}
    }
}

/// One change to a JSON text.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// The `k`-th number (modulo their count) becomes this text.
    Number(usize, String),
    /// The byte at this position (modulo the length) becomes this byte.
    Byte(usize, u8),
    /// This many bytes go from this position (modulo the length).
    Delete(usize, usize),
    /// Only this many bytes (modulo the length) are kept.
    Truncate(usize),
}

/// Numbers that stress sizes, counters and floats.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "3",
    "0.5",
    "-0.0",
    "100",
    "1000000000",
    "4294967296",
    "1000000000000000000",
    "18446744073709551615",
    "1e308",
    "-1e308",
    "1e-320",
    "1e39",
];

/// A mutation, numbers most often (they keep the text parseable and reach the checks).
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<usize>(), prop::sample::select(NUMBERS)).prop_map(|(k, n)| Mutation::Number(k, n.to_string())),
        2 => (any::<usize>(), any::<f64>().prop_filter("JSON has no NaN", |v| v.is_finite()))
            .prop_map(|(k, v)| Mutation::Number(k, format!("{v:e}"))),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        1 => (any::<usize>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Byte ranges of the numbers of `text` (a digit or `-` after `:`, `[`, `,` or a space).
fn numbers(text: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let starts = (text[i].is_ascii_digit() || text[i] == b'-')
            && i > 0
            && matches!(text[i - 1], b':' | b'[' | b',' | b' ');
        if starts {
            let start = i;
            while i < text.len()
                && matches!(text[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            spans.push(start..i);
        } else {
            i += 1;
        }
    }
    spans
}

/// `text` with `mutations` applied in order.
pub fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Number(k, number) => {
                let spans = numbers(&bytes);
                if let Some(span) = spans.get(k % spans.len().max(1)) {
                    bytes.splice(span.clone(), number.bytes());
                }
            }
            Mutation::Byte(i, b) => {
                let i = i % bytes.len();
                bytes[i] = *b;
            }
            Mutation::Delete(i, n) => {
                let i = i % bytes.len();
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Truncate(n) => bytes.truncate(n % bytes.len()),
        }
    }
    bytes
}
