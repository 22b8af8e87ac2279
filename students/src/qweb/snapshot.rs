//! Compact web-form observations for the QWeb student's replay buffer: only the real fields and
//! elements of a [`WebFormObs`] (token ids as `u16`, the action mask of the real block), shared
//! between consecutive transitions through `Arc`, and the ring buffer that stores them.
//!
//! A [`WebFormObs`] with the default caps flattens to about 11 000 numbers, most of them padding;
//! a snapshot of an easy form holds a few hundred, and the observation after a step is the one
//! the next step starts from, so each is stored once.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;
use serde::{Deserialize, Serialize};
use teachgym_envs::webform::{
    vocab_size, WebFormConfig, WebFormObs, ATTRIBUTES, ELEMENT_FEATURES, FILLED_FEATURE,
    MATCH_FEATURES, PROGRESS_FEATURES,
};

use crate::error::{check_counts, check_finite, Result, StudentError};

/// The caps of the web-form env a QWeb student reads (they fix the observation's shapes and the
/// number of flat actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormShape {
    /// `max_fields` (F).
    pub max_fields: usize,
    /// `max_elements` (E).
    pub max_elements: usize,
    /// `tokens_per_string` (T).
    pub tokens_per_string: usize,
    /// Size of the token vocabulary (ids `0..vocab`, 0 = padding).
    pub vocab: usize,
}

impl FormShape {
    /// The shape of envs built from `config`.
    pub fn of(config: &WebFormConfig) -> Self {
        FormShape {
            max_fields: config.max_fields,
            max_elements: config.max_elements,
            tokens_per_string: config.tokens_per_string,
            vocab: vocab_size(),
        }
    }

    /// Number of flat actions, `E·(1 + F)`.
    pub fn n_actions(&self) -> usize {
        self.max_elements * (1 + self.max_fields)
    }

    /// Checks that every size is usable.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] naming the bad size.
    pub fn validate(&self) -> Result<()> {
        check_counts(&[
            ("max_fields", self.max_fields as u64),
            ("max_elements", self.max_elements as u64),
            ("tokens_per_string", self.tokens_per_string as u64),
            ("vocab", self.vocab as u64),
        ])?;
        if self.vocab > usize::from(u16::MAX) + 1 {
            return Err(StudentError::InvalidConfig {
                field: "vocab",
                reason: format!("{} token ids do not fit u16", self.vocab),
            });
        }
        Ok(())
    }
}

/// The real part of one observation: `n_fields` instruction fields and `n_elements` element
/// slots (both prefixes of the observation's rows), row-major as in [`WebFormObs`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormSnapshot {
    pub(crate) n_fields: usize,
    pub(crate) n_elements: usize,
    /// `(n_fields, T)` key token ids.
    pub(crate) key_tokens: Vec<u16>,
    /// `(n_fields, T)` value token ids.
    pub(crate) value_tokens: Vec<u16>,
    /// `(n_elements, A, T)` element token ids.
    pub(crate) element_tokens: Vec<u16>,
    /// `(n_elements, K)` element features.
    pub(crate) element_features: Vec<f32>,
    /// `(n_fields, n_elements, 3)` word-overlap features.
    pub(crate) match_features: Vec<f32>,
    /// `(n_elements, 1 + n_fields)`: click, then type field j.
    pub(crate) mask: Vec<bool>,
    /// Progress features.
    pub(crate) progress: Vec<f32>,
    /// `(n_fields,)`: the field's value sits in a widget on some page (`instr_placed`). Empty
    /// in snapshots of a version-2 checkpoint, whose network does not read it.
    #[serde(default)]
    pub(crate) placed: Vec<bool>,
}

fn shape_error(what: &'static str, expected: String, got: String) -> StudentError {
    StudentError::ShapeMismatch {
        what,
        expected,
        got,
    }
}

/// Length of a 0/1 mask's prefix of ones, if the mask is such a prefix.
fn prefix_len(mask: &[u8]) -> Option<usize> {
    let n = mask.iter().take_while(|&&m| m == 1).count();
    mask[n..].iter().all(|&m| m == 0).then_some(n)
}

impl FormSnapshot {
    /// The snapshot of `obs`, checked against `shape`.
    ///
    /// # Errors
    /// [`StudentError::ShapeMismatch`] for arrays of the wrong length, masks that are not a
    /// prefix of ones, token ids outside the vocabulary or a legal action outside the real
    /// fields and elements; [`StudentError::NonFinite`] for NaN/∞ features.
    pub fn from_obs(obs: &WebFormObs, shape: &FormShape) -> Result<Self> {
        let (f, e, t) = (
            shape.max_fields,
            shape.max_elements,
            shape.tokens_per_string,
        );
        let lengths = [
            ("instr_key", obs.instr_key.len(), f * t),
            ("instr_val", obs.instr_val.len(), f * t),
            ("instr_mask", obs.instr_mask.len(), f),
            ("dom_tokens", obs.dom_tokens.len(), e * ATTRIBUTES * t),
            ("dom_feat", obs.dom_feat.len(), e * ELEMENT_FEATURES),
            ("dom_mask", obs.dom_mask.len(), e),
            ("match", obs.match_feat.len(), f * e * MATCH_FEATURES),
            ("action_mask", obs.action_mask.len(), shape.n_actions()),
            ("instr_placed", obs.instr_placed.len(), f),
            ("progress", obs.progress.len(), PROGRESS_FEATURES),
        ];
        for (what, got, expected) in lengths {
            if got != expected {
                return Err(shape_error(
                    what,
                    format!("({expected}) values for caps F = {f}, E = {e}, T = {t}"),
                    format!("({got})"),
                ));
            }
        }
        let n_fields = prefix_len(&obs.instr_mask).ok_or_else(|| {
            shape_error(
                "instr_mask",
                "a prefix of ones".into(),
                format!("{:?}", obs.instr_mask),
            )
        })?;
        let n_elements = prefix_len(&obs.dom_mask).ok_or_else(|| {
            shape_error(
                "dom_mask",
                "a prefix of ones".into(),
                format!("{:?}", obs.dom_mask),
            )
        })?;
        if n_fields == 0 || n_elements == 0 {
            return Err(shape_error(
                "observation",
                "at least one instruction field and one element".into(),
                format!("{n_fields} fields and {n_elements} elements"),
            ));
        }
        let tokens = |what: &'static str, ids: &[i64]| -> Result<Vec<u16>> {
            ids.iter()
                .map(|&id| {
                    usize::try_from(id)
                        .ok()
                        .filter(|&i| i < shape.vocab)
                        .map(|i| i as u16)
                        .ok_or_else(|| {
                            shape_error(
                                what,
                                format!("token ids in 0..{}", shape.vocab),
                                id.to_string(),
                            )
                        })
                })
                .collect()
        };
        check_finite("dom_feat", &obs.dom_feat)?;
        check_finite("match", &obs.match_feat)?;
        check_finite("progress", &obs.progress)?;
        let width = 1 + f;
        let mut mask = Vec::with_capacity(n_elements * (1 + n_fields));
        for (slot, row) in obs.action_mask.chunks(width).enumerate() {
            let real = slot < n_elements;
            for (j, &m) in row.iter().enumerate() {
                let inside = real && j <= n_fields;
                if inside {
                    mask.push(m == 1);
                } else if m != 0 {
                    return Err(shape_error(
                        "action_mask",
                        format!(
                            "legal actions only on the {n_elements} real elements and {n_fields} \
                             real fields"
                        ),
                        format!("action {} legal", slot * width + j),
                    ));
                }
            }
        }
        let mut match_features = Vec::with_capacity(n_fields * n_elements * MATCH_FEATURES);
        for j in 0..n_fields {
            let row = j * e * MATCH_FEATURES;
            match_features
                .extend_from_slice(&obs.match_feat[row..row + n_elements * MATCH_FEATURES]);
        }
        Ok(FormSnapshot {
            n_fields,
            n_elements,
            key_tokens: tokens("instr_key", &obs.instr_key[..n_fields * t])?,
            value_tokens: tokens("instr_val", &obs.instr_val[..n_fields * t])?,
            element_tokens: tokens("dom_tokens", &obs.dom_tokens[..n_elements * ATTRIBUTES * t])?,
            element_features: obs.dom_feat[..n_elements * ELEMENT_FEATURES].to_vec(),
            match_features,
            mask,
            progress: obs.progress.clone(),
            placed: obs.instr_placed[..n_fields]
                .iter()
                .map(|&p| p != 0)
                .collect(),
        })
    }

    /// Checks the invariants of a deserialised snapshot.
    pub(crate) fn validate(&self, shape: &FormShape) -> Result<()> {
        let (f, e, t) = (self.n_fields, self.n_elements, shape.tokens_per_string);
        let consistent = f <= shape.max_fields
            && e <= shape.max_elements
            && self.key_tokens.len() == f * t
            && self.value_tokens.len() == f * t
            && self.element_tokens.len() == e * ATTRIBUTES * t
            && self.element_features.len() == e * ELEMENT_FEATURES
            && self.match_features.len() == f * e * MATCH_FEATURES
            && self.mask.len() == e * (1 + f)
            && self.progress.len() == PROGRESS_FEATURES
            && (self.placed.len() == f || self.placed.is_empty());
        let tokens_ok = self
            .key_tokens
            .iter()
            .chain(&self.value_tokens)
            .chain(&self.element_tokens)
            .all(|&id| usize::from(id) < shape.vocab);
        let finite = self
            .element_features
            .iter()
            .chain(&self.match_features)
            .chain(&self.progress)
            .all(|v| v.is_finite());
        if consistent && tokens_ok && finite {
            Ok(())
        } else {
            Err(StudentError::CorruptCheckpoint {
                reason: format!(
                    "a replay observation does not fit caps F = {}, E = {}, T = {t} (or holds \
                     bad tokens or non-finite features)",
                    shape.max_fields, shape.max_elements
                ),
            })
        }
    }

    /// A hash of every field, floats by their bits.
    fn content_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.n_fields, self.n_elements).hash(&mut h);
        self.key_tokens.hash(&mut h);
        self.value_tokens.hash(&mut h);
        self.element_tokens.hash(&mut h);
        self.mask.hash(&mut h);
        self.placed.hash(&mut h);
        for v in self
            .element_features
            .iter()
            .chain(&self.match_features)
            .chain(&self.progress)
        {
            v.to_bits().hash(&mut h);
        }
        h.finish()
    }

    /// Equality with floats compared by their bits.
    fn same_bits(&self, other: &FormSnapshot) -> bool {
        let bits = |a: &[f32], b: &[f32]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        self.n_fields == other.n_fields
            && self.n_elements == other.n_elements
            && self.key_tokens == other.key_tokens
            && self.value_tokens == other.value_tokens
            && self.element_tokens == other.element_tokens
            && self.mask == other.mask
            && self.placed == other.placed
            && bits(&self.element_features, &other.element_features)
            && bits(&self.match_features, &other.match_features)
            && bits(&self.progress, &other.progress)
    }

    /// The legal flat actions as a dense mask over `shape.n_actions()` actions.
    pub(crate) fn dense_mask(&self, shape: &FormShape, out: &mut [bool]) {
        out.fill(false);
        let width = 1 + shape.max_fields;
        for e in 0..self.n_elements {
            let row = &self.mask[e * (1 + self.n_fields)..(e + 1) * (1 + self.n_fields)];
            out[e * width..e * width + row.len()].copy_from_slice(row);
        }
    }

    /// `sat_j`: 1 if some element currently holds field `j`'s value (an input with that value,
    /// or a ticked option offering it), from the exact-match feature and the `filled` flag;
    /// `across_pages`: 1 if some widget on any page holds it (`instr_placed`, a superset).
    pub(crate) fn field_satisfied(&self, j: usize, across_pages: bool) -> f32 {
        if across_pages {
            if let Some(&placed) = self.placed.get(j) {
                return f32::from(u8::from(placed));
            }
        }
        let e = self.n_elements;
        (0..e)
            .map(|k| {
                self.match_features[(j * e + k) * MATCH_FEATURES + 2]
                    * self.element_features[k * ELEMENT_FEATURES + FILLED_FEATURE]
            })
            .fold(0.0, f32::max)
    }
}

/// One stored transition: indices into the shared snapshots.
#[derive(Debug, Clone)]
struct StoredTransition {
    obs: Arc<FormSnapshot>,
    action: usize,
    reward: f32,
    next_obs: Arc<FormSnapshot>,
    terminated: bool,
}

/// A fixed-capacity ring of transitions between [`FormSnapshot`]s that overwrites the oldest
/// when full; uniform sampling with replacement (as [`crate::ReplayBuffer`]).
#[derive(Debug, Clone)]
pub struct SnapshotReplay {
    capacity: usize,
    position: usize,
    items: Vec<StoredTransition>,
}

/// A sampled minibatch.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotBatch {
    pub obs: Vec<Arc<FormSnapshot>>,
    pub actions: Vec<usize>,
    pub rewards: Vec<f32>,
    pub next_obs: Vec<Arc<FormSnapshot>>,
    pub terminated: Vec<f32>,
}

impl SnapshotReplay {
    /// An empty buffer for `capacity` (≥ 1) transitions.
    pub(crate) fn new(capacity: usize) -> Self {
        SnapshotReplay {
            capacity,
            position: 0,
            items: Vec::new(),
        }
    }

    /// Maximum number of transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of stored transitions.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of distinct snapshots held (each shared by up to two transitions).
    pub fn distinct_snapshots(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        for t in &self.items {
            seen.insert(Arc::as_ptr(&t.obs));
            seen.insert(Arc::as_ptr(&t.next_obs));
        }
        seen.len()
    }

    /// Stores a transition, overwriting the oldest once full.
    pub(crate) fn push(
        &mut self,
        obs: Arc<FormSnapshot>,
        action: usize,
        reward: f32,
        next_obs: Arc<FormSnapshot>,
        terminated: bool,
    ) {
        let item = StoredTransition {
            obs,
            action,
            reward,
            next_obs,
            terminated,
        };
        if self.items.len() < self.capacity {
            self.items.push(item);
        } else {
            self.items[self.position] = item;
        }
        self.position = (self.position + 1) % self.capacity;
    }

    /// Fills `batch` with `batch_size` transitions drawn uniformly with replacement.
    pub(crate) fn sample<R: Rng + ?Sized>(
        &self,
        batch_size: usize,
        rng: &mut R,
        batch: &mut SnapshotBatch,
    ) {
        batch.obs.clear();
        batch.actions.clear();
        batch.rewards.clear();
        batch.next_obs.clear();
        batch.terminated.clear();
        for _ in 0..batch_size {
            let t = &self.items[rng.random_range(0..self.items.len())];
            batch.obs.push(t.obs.clone());
            batch.actions.push(t.action);
            batch.rewards.push(t.reward);
            batch.next_obs.push(t.next_obs.clone());
            batch.terminated.push(if t.terminated { 1.0 } else { 0.0 });
        }
    }

    /// The serialised form: each distinct snapshot once (by content, so the text does not
    /// depend on which transitions happened to share memory), transitions by index.
    pub(crate) fn to_state(&self) -> ReplayState {
        let mut by_pointer: HashMap<*const FormSnapshot, u32> = HashMap::new();
        let mut by_content: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut snapshots: Vec<FormSnapshot> = Vec::new();
        let mut id = |s: &Arc<FormSnapshot>| -> u32 {
            if let Some(&i) = by_pointer.get(&Arc::as_ptr(s)) {
                return i;
            }
            let candidates = by_content.entry(s.content_hash()).or_default();
            let i = match candidates
                .iter()
                .find(|&&i| snapshots[i as usize].same_bits(s))
            {
                Some(&i) => i,
                None => {
                    snapshots.push(FormSnapshot::clone(s));
                    let i = (snapshots.len() - 1) as u32;
                    candidates.push(i);
                    i
                }
            };
            by_pointer.insert(Arc::as_ptr(s), i);
            i
        };
        let transitions = self
            .items
            .iter()
            .map(|t| {
                (
                    id(&t.obs),
                    t.action,
                    t.reward,
                    id(&t.next_obs),
                    t.terminated,
                )
            })
            .collect();
        ReplayState {
            capacity: self.capacity,
            position: self.position,
            snapshots,
            transitions,
        }
    }

    /// Rebuilds a buffer from [`SnapshotReplay::to_state`], checking it against `shape`.
    pub(crate) fn from_state(state: ReplayState, shape: &FormShape) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let len = state.transitions.len();
        if state.capacity == 0
            || len > state.capacity
            || state.position >= state.capacity
            || (len < state.capacity && state.position != len)
        {
            return Err(corrupt(format!(
                "replay ring of capacity {} holds {len} transitions at position {}",
                state.capacity, state.position
            )));
        }
        for s in &state.snapshots {
            s.validate(shape)?;
        }
        let snapshots: Vec<Arc<FormSnapshot>> = state.snapshots.into_iter().map(Arc::new).collect();
        let get = |i: u32| {
            snapshots
                .get(i as usize)
                .cloned()
                .ok_or_else(|| corrupt(format!("transition refers to missing snapshot {i}")))
        };
        let mut items = Vec::with_capacity(len);
        for (obs, action, reward, next_obs, terminated) in state.transitions {
            let (obs, next_obs) = (get(obs)?, get(next_obs)?);
            let legal = obs.mask.get(action_slot(action, shape, &obs)?).copied();
            if legal != Some(true) || !reward.is_finite() {
                return Err(corrupt(format!(
                    "stored action {action} is not legal in its observation, or its reward \
                     {reward} is not finite"
                )));
            }
            items.push(StoredTransition {
                obs,
                action,
                reward,
                next_obs,
                terminated,
            });
        }
        Ok(SnapshotReplay {
            capacity: state.capacity,
            position: state.position,
            items,
        })
    }
}

/// Index into `snapshot.mask` of flat action `action`.
pub(crate) fn action_slot(
    action: usize,
    shape: &FormShape,
    snapshot: &FormSnapshot,
) -> Result<usize> {
    let width = 1 + shape.max_fields;
    let (e, j) = (action / width, action % width);
    if e >= snapshot.n_elements || j > snapshot.n_fields {
        return Err(shape_error(
            "action",
            format!(
                "an action on the {} real elements and {} real fields",
                snapshot.n_elements, snapshot.n_fields
            ),
            action.to_string(),
        ));
    }
    Ok(e * (1 + snapshot.n_fields) + j)
}

/// Serialised [`SnapshotReplay`]: `(obs, action, reward, next_obs, terminated)` per transition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplayState {
    capacity: usize,
    position: usize,
    snapshots: Vec<FormSnapshot>,
    transitions: Vec<(u32, usize, f32, u32, bool)>,
}

impl ReplayState {
    /// Capacity of the serialised ring.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Widens every snapshot's element features by one zero column at the end: the rows of a
    /// checkpoint written before the last feature (`invalid`, 0 then) existed.
    ///
    /// # Errors
    /// [`StudentError::CorruptCheckpoint`] when a snapshot's rows are not of the old width.
    pub(crate) fn append_element_feature(&mut self) -> Result<()> {
        let old = ELEMENT_FEATURES - 1;
        for s in &mut self.snapshots {
            if s.element_features.len() != s.n_elements * old {
                return Err(StudentError::CorruptCheckpoint {
                    reason: format!(
                        "a replayed observation has {} element features for {} elements \
                         (expected {old} each)",
                        s.element_features.len(),
                        s.n_elements
                    ),
                });
            }
            s.element_features = s
                .element_features
                .chunks(old)
                .flat_map(|row| row.iter().copied().chain([0.0]))
                .collect();
        }
        Ok(())
    }
}
