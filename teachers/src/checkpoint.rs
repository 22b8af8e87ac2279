//! The versioned checkpoint envelope shared by all teachers:
//! `{"format_version": 1, "teacher": "<name>", "state": {...}}`.
//!
//! Every teacher serialises its whole struct (config, statistics, RNG streams) as `state`.
//! `serde_json` is built with `float_roundtrip`, so every `f64` survives bit for bit.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;

use crate::{Result, TeacherError, CHECKPOINT_FORMAT_VERSION};

#[derive(Serialize)]
struct EnvelopeOut<'a, S> {
    format_version: u32,
    teacher: &'a str,
    state: &'a S,
}

/// The envelope without its state, read first so version and name are checked before the state.
#[derive(Deserialize)]
struct Header {
    format_version: u32,
    teacher: String,
    #[allow(dead_code)]
    state: serde::de::IgnoredAny,
}

/// The full envelope. The state is deserialised straight from the bytes, never through
/// `serde_json::Value`, which would turn the RNGs' `u128` words into lossy floats.
#[derive(Deserialize)]
struct EnvelopeIn<S> {
    state: S,
}

/// Serialises `state` inside the envelope.
pub(crate) fn save<S: Serialize>(teacher: &str, state: &S) -> Result<Vec<u8>> {
    serde_json::to_vec(&EnvelopeOut {
        format_version: CHECKPOINT_FORMAT_VERSION,
        teacher,
        state,
    })
    .map_err(|e| TeacherError::Checkpoint {
        reason: format!("serialising `{teacher}` state failed: {e}"),
    })
}

/// Parses an envelope, checks version and teacher name, and deserialises the state.
pub(crate) fn load<S: DeserializeOwned>(teacher: &str, bytes: &[u8]) -> Result<S> {
    let envelope: Header = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if envelope.format_version != CHECKPOINT_FORMAT_VERSION {
        return Err(corrupt(format!(
            "format_version {} is not supported (this build reads version {})",
            envelope.format_version, CHECKPOINT_FORMAT_VERSION
        )));
    }
    if envelope.teacher != teacher {
        return Err(corrupt(format!(
            "checkpoint is for teacher `{}`, not `{teacher}`",
            envelope.teacher
        )));
    }
    let full: EnvelopeIn<S> =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("`{teacher}` state: {e}")))?;
    Ok(full.state)
}

/// Refuses a checkpoint taken on another task space.
pub(crate) fn check_same_space(current: &TaskSpace, restored: &TaskSpace) -> Result<()> {
    if current == restored {
        Ok(())
    } else {
        Err(corrupt(format!(
            "checkpoint task space [{}] differs from this teacher's [{}]",
            restored.names().join(", "),
            current.names().join(", ")
        )))
    }
}

/// A [`TeacherError::Checkpoint`] with `reason`.
pub(crate) fn corrupt(reason: impl Into<String>) -> TeacherError {
    TeacherError::Checkpoint {
        reason: reason.into(),
    }
}

/// Fails with a checkpoint error unless `ok`.
pub(crate) fn ensure(ok: bool, reason: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(corrupt(reason()))
    }
}
