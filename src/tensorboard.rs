//! TensorBoard event files for run directories: `teachgym train` writes
//! `events.out.tfevents.teachgym` beside its CSV files, so `tensorboard --logdir runs/` shows
//! every run's evaluations, training returns and curriculum.
//!
//! The file is derived from `evaluations.csv` and `episodes.csv`, like the PNG plots, and
//! rewritten (atomically) after each evaluation. So it never disagrees with the data files, a
//! resumed run (whose data files were cut back to its checkpoint) rewrites it consistently, and
//! the same run gives the same bytes. Events are laid out window by window (the episodes up to an
//! evaluation, then that evaluation), so each rewrite only appends to the previous file and a
//! running TensorBoard keeps reading it incrementally. Every event's wall time is 0: steps are
//! the axis (the data files hold no clock times, and bytes that do not depend on when a run was
//! written are worth more here).
//!
//! Tags:
//! - `eval/mastered_percent`, `eval/mean_return`: each evaluation, at its step;
//! - `train/episode_return`, `train/episode_length`: every finished episode, at its end step;
//! - `curriculum/<dimension>` (histogram) and `curriculum/<dimension>_mean`: the tasks the
//!   teacher chose since the previous evaluation, at the evaluation's step.
//!
//! The format: a TFRecord stream (`u64` length, masked CRC-32C of it, the bytes, masked CRC-32C
//! of them) of `tensorflow.Event` protocol buffers, encoded here by hand: the few fields written
//! need no protobuf dependency.

use std::path::Path;

use anyhow::{Context, Result};

pub use crate::plots::EvaluationPoint;

/// The file name TensorBoard finds (`*tfevents*`) in a run directory.
pub const EVENT_FILE_NAME: &str = "events.out.tfevents.teachgym";

/// Histogram buckets per curriculum dimension.
pub const CURRICULUM_BUCKETS: usize = 30;

/// One finished episode, as `episodes.csv` holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    /// Env steps when it ended.
    pub global_step: u64,
    /// Its task.
    pub task: Vec<f64>,
    /// Its return.
    pub episode_return: f64,
    /// Its length in steps.
    pub length: u64,
}

/// The whole event stream of a run: `dimensions` names the task's dimensions (histogram tags
/// `curriculum/<name>`, ranges `(low, high)`), `evaluations` and `episodes` are in step order.
pub fn encode_run(
    dimensions: &[(String, f64, f64)],
    evaluations: &[EvaluationPoint],
    episodes: &[EpisodeRow],
) -> Vec<u8> {
    let mut out = Vec::new();
    write_record(&mut out, &event(0, EventBody::FileVersion("brain.Event:2")));
    let mut next_episode = 0;
    for eval in evaluations {
        // The episodes of this window: those that ended up to the evaluation's step.
        let start = next_episode;
        while next_episode < episodes.len()
            && episodes[next_episode].global_step <= eval.global_step
        {
            next_episode += 1;
        }
        write_window(
            &mut out,
            dimensions,
            &episodes[start..next_episode],
            Some(eval),
        );
    }
    // Episodes after the last evaluation (a run stopped between two): training scalars only,
    // their curriculum histogram waits for the next evaluation.
    for e in &episodes[next_episode..] {
        write_episode(&mut out, e);
    }
    out
}

/// Writes [`encode_run`]'s stream to `path` (a run's `dir/`[`EVENT_FILE_NAME`]) atomically: a
/// temporary file renamed over it.
///
/// # Errors
/// I/O failures, naming the file.
pub fn write_run(
    path: &Path,
    dimensions: &[(String, f64, f64)],
    evaluations: &[EvaluationPoint],
    episodes: &[EpisodeRow],
) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, encode_run(dimensions, evaluations, episodes))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn write_window(
    out: &mut Vec<u8>,
    dimensions: &[(String, f64, f64)],
    episodes: &[EpisodeRow],
    eval: Option<&EvaluationPoint>,
) {
    for e in episodes {
        write_episode(out, e);
    }
    let Some(eval) = eval else { return };
    let mut values = vec![
        Value::scalar("eval/mastered_percent", eval.mastered_percent),
        Value::scalar("eval/mean_return", eval.mean_return),
    ];
    if !episodes.is_empty() {
        for (d, (name, low, high)) in dimensions.iter().enumerate() {
            let column: Vec<f64> = episodes
                .iter()
                .filter_map(|e| e.task.get(d).copied())
                .collect();
            let mean = column.iter().sum::<f64>() / column.len() as f64;
            values.push(Value::scalar(&format!("curriculum/{name}_mean"), mean));
            values.push(Value::histogram(
                &format!("curriculum/{name}"),
                &column,
                *low,
                *high,
            ));
        }
    }
    write_record(out, &event(eval.global_step, EventBody::Summary(values)));
}

fn write_episode(out: &mut Vec<u8>, e: &EpisodeRow) {
    let values = vec![
        Value::scalar("train/episode_return", e.episode_return),
        Value::scalar("train/episode_length", e.length as f64),
    ];
    write_record(out, &event(e.global_step, EventBody::Summary(values)));
}

// -- protocol buffers --------------------------------------------------------------------------

enum EventBody<'a> {
    /// `Event.file_version` (field 3), the first event of every file.
    FileVersion(&'a str),
    /// `Event.summary` (field 5).
    Summary(Vec<Value>),
}

/// A `Summary.Value`: a tag with a scalar (`simple_value`, field 2) or a histogram (`histo`,
/// field 5).
struct Value {
    tag: String,
    content: ValueContent,
}

enum ValueContent {
    Scalar(f32),
    Histogram(Vec<u8>),
}

impl Value {
    fn scalar(tag: &str, value: f64) -> Self {
        Value {
            tag: tag.to_string(),
            content: ValueContent::Scalar(value as f32),
        }
    }

    /// A `HistogramProto` of `values` over `CURRICULUM_BUCKETS` equal buckets of
    /// `[low, high]` (TensorBoard reads `bucket_limit[i]` as the right edge of bucket `i`).
    fn histogram(tag: &str, values: &[f64], low: f64, high: f64) -> Self {
        let width = (high - low) / CURRICULUM_BUCKETS as f64;
        let mut counts = vec![0.0f64; CURRICULUM_BUCKETS];
        for &v in values {
            let bucket = if width > 0.0 {
                (((v - low) / width) as usize).min(CURRICULUM_BUCKETS - 1)
            } else {
                0
            };
            counts[bucket] += 1.0;
        }
        let limits: Vec<f64> = (1..=CURRICULUM_BUCKETS)
            .map(|i| low + width * i as f64)
            .collect();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut proto = Vec::new();
        put_double(&mut proto, 1, min);
        put_double(&mut proto, 2, max);
        put_double(&mut proto, 3, values.len() as f64);
        put_double(&mut proto, 4, values.iter().sum());
        put_double(&mut proto, 5, values.iter().map(|v| v * v).sum());
        put_packed_doubles(&mut proto, 6, &limits);
        put_packed_doubles(&mut proto, 7, &counts);
        Value {
            tag: tag.to_string(),
            content: ValueContent::Histogram(proto),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_bytes(&mut out, 1, self.tag.as_bytes());
        match &self.content {
            ValueContent::Scalar(v) => {
                put_key(&mut out, 2, WIRE_FIXED32);
                out.extend_from_slice(&v.to_le_bytes());
            }
            ValueContent::Histogram(proto) => put_bytes(&mut out, 5, proto),
        }
        out
    }
}

/// An `Event`: `wall_time` (field 1, 0 here, see the module docs), `step` (field 2) and the body.
fn event(step: u64, body: EventBody<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    put_double(&mut out, 1, 0.0);
    put_key(&mut out, 2, WIRE_VARINT);
    put_varint(&mut out, step);
    match body {
        EventBody::FileVersion(version) => put_bytes(&mut out, 3, version.as_bytes()),
        EventBody::Summary(values) => {
            let mut summary = Vec::new();
            for value in &values {
                put_bytes(&mut summary, 1, &value.encode());
            }
            put_bytes(&mut out, 5, &summary);
        }
    }
    out
}

const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;
const WIRE_FIXED32: u64 = 5;

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, field: u64, wire: u64) {
    put_varint(out, (field << 3) | wire);
}

fn put_double(out: &mut Vec<u8>, field: u64, value: f64) {
    put_key(out, field, WIRE_FIXED64);
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_key(out, field, WIRE_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_packed_doubles(out: &mut Vec<u8>, field: u64, values: &[f64]) {
    put_key(out, field, WIRE_LEN);
    put_varint(out, 8 * values.len() as u64);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

// -- TFRecord framing ----------------------------------------------------------------------------

const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// TFRecord's masked CRC-32C (so that a CRC of data holding CRCs is not itself a CRC).
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = CRC32C.checksum(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn write_record(out: &mut Vec<u8>, data: &[u8]) {
    let length = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&length);
    out.extend_from_slice(&masked_crc(&length).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_its_mask_match_the_published_values() {
        // CRC-32C check value of "123456789" (RFC 3720, B.4).
        assert_eq!(CRC32C.checksum(b"123456789"), 0xe306_9283);
        // TFRecord's mask, ((crc >> 15) | (crc << 17)) + 0xa282ead8, worked out by hand.
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn protobuf_fields_are_encoded_as_the_wire_format_says() {
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        let scalar = Value::scalar("a", 1.0).encode();
        // tag: field 1, length 1, "a"; simple_value: field 2 fixed32, 1.0f32.
        assert_eq!(scalar, [0x0a, 0x01, b'a', 0x15, 0x00, 0x00, 0x80, 0x3f]);
    }

    #[test]
    fn records_frame_their_events_and_windows_only_append() {
        let dims = vec![("height".to_string(), 0.0, 3.0)];
        let episodes: Vec<EpisodeRow> = (0..6)
            .map(|i| EpisodeRow {
                global_step: 100 * (i + 1),
                task: vec![0.5 * i as f64],
                episode_return: i as f64,
                length: 100,
            })
            .collect();
        let evals = vec![
            EvaluationPoint {
                global_step: 300,
                mastered_percent: 1.0,
                mean_return: -5.0,
            },
            EvaluationPoint {
                global_step: 600,
                mastered_percent: 2.0,
                mean_return: 3.0,
            },
        ];
        let first = encode_run(&dims, &evals[..1], &episodes[..3]);
        let whole = encode_run(&dims, &evals, &episodes);
        assert!(whole.starts_with(&first), "a rewrite must only append");
        // Walk the records: every length and CRC checks out, and the count is
        // file version + 6 episodes + 2 evaluations.
        let mut at = 0;
        let mut records = 0;
        while at < whole.len() {
            let length = u64::from_le_bytes(whole[at..at + 8].try_into().unwrap()) as usize;
            let length_crc = u32::from_le_bytes(whole[at + 8..at + 12].try_into().unwrap());
            assert_eq!(length_crc, masked_crc(&whole[at..at + 8]));
            let data = &whole[at + 12..at + 12 + length];
            let data_crc = u32::from_le_bytes(
                whole[at + 12 + length..at + 16 + length]
                    .try_into()
                    .unwrap(),
            );
            assert_eq!(data_crc, masked_crc(data));
            at += 16 + length;
            records += 1;
        }
        assert_eq!(records, 9);
        // Episodes after the last evaluation still give their training scalars.
        let extra = encode_run(&dims, &evals[..1], &episodes[..4]);
        assert!(extra.len() > first.len() && extra.starts_with(&first));
    }
}
