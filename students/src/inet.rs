//! INET, QWeb's instruction-generation network (webnav.md §1.6): given a goal state of a web
//! form and one instruction key, it picks the element (`a^D`) and the attribute (`a^A`) whose
//! value the key should get. Trained with DQN on the instruction-generation env
//! ([`InstructionEnv`]), then frozen and used by MetaQWeb ([`crate::meta_qweb`]) as the
//! [`Instructor`] that turns RRND's goals into instructions.
//!
//! Network, in QWeb's factorisation:
//! - key encoder `f_K(i) = tanh(MLP_K(emb(key)))`;
//! - element encoder `E_tree(j) = tanh(MLP_E([emb(text), emb(name), emb(label), emb(value),
//!   kind, set, has_widget, overlap(key, name), overlap(key, label), overlap(key, text)]))`,
//!   where `emb` mean-pools token embeddings and `overlap` is the share of the key's words found
//!   in the string (QWeb's shallow word-overlap features);
//! - `Q^I(s, a^D = j) = f_K(i) · E_tree(j)` and `Q^I(s, a^A | a^D = j) = MLP_A([E_tree(j),
//!   f_K(i)])` (one output per [`GoalAttribute`]).
//!
//! Unlike QWeb there is no biLSTM over the element list (each element's encoding sees its own
//! attributes, its widget's label and the key) and the token embeddings are a fixed seeded
//! random table (not trained; the MLPs learn on top of it). Each answer is a one-step episode:
//! answering one key does not change the state of the next, so the DQN target is the reward
//! itself (no bootstrap, no target network); replay and ε-greedy exploration are DQN's.

use ndarray::{s, Array2};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};
use teachgym_core::TaskSpace;
use teachgym_envs::webform::{
    vocab_size, ElementKind, GoalAttribute, GoalElement, GoalView, InstructionEnv, Instructor,
    Tokens, GOAL_ATTRIBUTES,
};
use teachgym_envs::WebFormConfig;
use teachgym_nn::{
    clip_global_norm, validate_hidden_sizes, Activation, Adam, AdamConfig, Checkpoint,
    ForwardCache, Gradients, Mlp, MlpConfig,
};

use crate::error::{Result, StudentError};

/// Version of the [`Inet::to_json`] format.
pub const INET_CHECKPOINT_VERSION: u32 = 1;

/// Default width of the token embeddings: 16.
pub const DEFAULT_INET_EMBEDDING_DIM: usize = 16;
/// Default width of the key and element encodings: 32.
pub const DEFAULT_INET_ENCODING_DIM: usize = 32;
/// Default Adam step size: 1e-3.
pub const DEFAULT_INET_LEARNING_RATE: f32 = 1e-3;
/// Default transitions per gradient step: 64.
pub const DEFAULT_INET_BATCH_SIZE: usize = 64;
/// Default replay capacity: 20 000 answers.
pub const DEFAULT_INET_BUFFER_SIZE: usize = 20_000;
/// Default length of the linear ε decay: 5 000 answers.
pub const DEFAULT_INET_EXPLORATION_STEPS: u64 = 5_000;
/// Default final ε: 0.05.
pub const DEFAULT_INET_END_EPSILON: f64 = 0.05;
/// Default answers before the first gradient step: 256.
pub const DEFAULT_INET_LEARNING_STARTS: u64 = 256;
/// Default global gradient-norm limit: 10.
pub const DEFAULT_INET_MAX_GRAD_NORM: f32 = 10.0;

/// Hyper-parameters of INET and of its DQN training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InetConfig {
    /// Width of the (fixed, seeded) token embeddings. Default [`DEFAULT_INET_EMBEDDING_DIM`].
    pub embedding_dim: usize,
    /// Hidden widths (ReLU) of the key and element encoders. Default `[64]`.
    pub encoder_hidden: Vec<usize>,
    /// Width of `f_K` and `E_tree` (tanh). Default [`DEFAULT_INET_ENCODING_DIM`].
    pub encoding_dim: usize,
    /// Hidden widths (ReLU) of the attribute head. Default `[64]`.
    pub attribute_hidden: Vec<usize>,
    /// Adam step size. Default [`DEFAULT_INET_LEARNING_RATE`].
    pub learning_rate: f32,
    /// Answers per gradient step. Default [`DEFAULT_INET_BATCH_SIZE`].
    pub batch_size: usize,
    /// Replay capacity in answers. Default [`DEFAULT_INET_BUFFER_SIZE`].
    pub buffer_size: usize,
    /// ε at the first answer, in [0, 1]. Default 1.
    pub start_epsilon: f64,
    /// Final ε, in [0, 1]. Default [`DEFAULT_INET_END_EPSILON`].
    pub end_epsilon: f64,
    /// Answers of the linear ε decay (≥ 1). Default [`DEFAULT_INET_EXPLORATION_STEPS`].
    pub exploration_steps: u64,
    /// No gradient step before this many answers. Default [`DEFAULT_INET_LEARNING_STARTS`].
    pub learning_starts: u64,
    /// Global gradient-norm limit, or `None`. Default [`DEFAULT_INET_MAX_GRAD_NORM`].
    pub max_grad_norm: Option<f32>,
}

impl Default for InetConfig {
    fn default() -> Self {
        InetConfig {
            embedding_dim: DEFAULT_INET_EMBEDDING_DIM,
            encoder_hidden: vec![64],
            encoding_dim: DEFAULT_INET_ENCODING_DIM,
            attribute_hidden: vec![64],
            learning_rate: DEFAULT_INET_LEARNING_RATE,
            batch_size: DEFAULT_INET_BATCH_SIZE,
            buffer_size: DEFAULT_INET_BUFFER_SIZE,
            start_epsilon: 1.0,
            end_epsilon: DEFAULT_INET_END_EPSILON,
            exploration_steps: DEFAULT_INET_EXPLORATION_STEPS,
            learning_starts: DEFAULT_INET_LEARNING_STARTS,
            max_grad_norm: Some(DEFAULT_INET_MAX_GRAD_NORM),
        }
    }
}

/// Largest `embedding_dim` and `encoding_dim`.
pub const MAX_INET_WIDTH: usize = 1024;

impl InetConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: String| {
            Err(StudentError::InvalidConfig { field, reason })
        };
        for (field, width) in [
            ("embedding_dim", self.embedding_dim),
            ("encoding_dim", self.encoding_dim),
        ] {
            if !(1..=MAX_INET_WIDTH).contains(&width) {
                return bad(field, format!("{width} is outside 1..={MAX_INET_WIDTH}"));
            }
        }
        validate_hidden_sizes("encoder_hidden", &self.encoder_hidden)?;
        validate_hidden_sizes("attribute_hidden", &self.attribute_hidden)?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                format!("{} must be finite and > 0", self.learning_rate),
            );
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be ≥ 1, got 0".into());
        }
        if self.buffer_size < self.batch_size {
            return bad(
                "buffer_size",
                format!(
                    "{} is smaller than batch_size {}",
                    self.buffer_size, self.batch_size
                ),
            );
        }
        for (field, eps) in [
            ("start_epsilon", self.start_epsilon),
            ("end_epsilon", self.end_epsilon),
        ] {
            if !(0.0..=1.0).contains(&eps) {
                return bad(field, format!("{eps} is outside [0, 1]"));
            }
        }
        if self.exploration_steps == 0 {
            return bad("exploration_steps", "must be ≥ 1, got 0".into());
        }
        if let Some(norm) = self.max_grad_norm {
            if !(norm.is_finite() && norm > 0.0) {
                return bad("max_grad_norm", format!("{norm} must be finite and > 0"));
            }
        }
        Ok(())
    }

    /// ε after `answers` answers: linear from `start_epsilon` to `end_epsilon`.
    pub fn epsilon(&self, answers: u64) -> f64 {
        let progress = (answers as f64 / self.exploration_steps as f64).min(1.0);
        self.start_epsilon + progress * (self.end_epsilon - self.start_epsilon)
    }

    /// Width of an element's input row.
    pub fn element_inputs(&self) -> usize {
        4 * self.embedding_dim + ElementKind::COUNT + ELEMENT_FLAGS
    }
}

/// Flags and overlap features after an element's embeddings and kind.
const ELEMENT_FLAGS: usize = 5;

/// The instruction-generation network (see the module docs). Cloning gives an independent
/// copy (each MetaQWeb env holds one, frozen).
#[derive(Debug, Clone)]
pub struct Inet {
    config: InetConfig,
    /// `vocab_size × embedding_dim`, fixed at construction.
    embedding: Vec<f32>,
    key_net: Mlp,
    element_net: Mlp,
    attribute_net: Mlp,
}

/// The state a [`Inet::to_json`] checkpoint holds.
#[derive(Serialize, Deserialize)]
struct InetCheckpoint {
    format_version: u32,
    config: InetConfig,
    vocab_size: usize,
    embedding: Vec<f32>,
    key_net: Checkpoint,
    element_net: Checkpoint,
    attribute_net: Checkpoint,
}

fn encoder(inputs: usize, hidden: &[usize], outputs: usize, tanh_output: bool) -> MlpConfig {
    let mut config = MlpConfig::new(inputs, hidden, Activation::Relu, outputs);
    if tanh_output {
        if let Some(last) = config.layers.last_mut() {
            last.activation = Activation::Tanh;
        }
    }
    config
}

/// Share of `key`'s words that appear in `text` (0 for an empty key).
fn overlap(key: &Tokens, text: &Tokens) -> f32 {
    let key = key.as_slice();
    if key.is_empty() {
        return 0.0;
    }
    let found = key.iter().filter(|w| text.as_slice().contains(w)).count();
    found as f32 / key.len() as f32
}

impl Inet {
    /// A fresh network drawn from `seed` (embedding table and weights).
    ///
    /// # Errors
    /// [`StudentError::InvalidConfig`] naming a bad field.
    pub fn new(config: InetConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = Pcg64::seed_from_u64(seed);
        let d = config.embedding_dim;
        // Uniform with the variance of N(0, 1/d): pooled strings keep unit scale.
        let half_width = (3.0 / d as f32).sqrt();
        let embedding = (0..vocab_size() * d)
            .map(|_| rng.random_range(-half_width..half_width))
            .collect();
        let enc = config.encoding_dim;
        let key_net = Mlp::new(encoder(d, &config.encoder_hidden, enc, true), &mut rng)?;
        let element_net = Mlp::new(
            encoder(config.element_inputs(), &config.encoder_hidden, enc, true),
            &mut rng,
        )?;
        let attribute_net = Mlp::new(
            encoder(2 * enc, &config.attribute_hidden, GOAL_ATTRIBUTES, false),
            &mut rng,
        )?;
        Ok(Inet {
            config,
            embedding,
            key_net,
            element_net,
            attribute_net,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &InetConfig {
        &self.config
    }

    fn pool(&self, tokens: &Tokens, out: &mut [f32]) {
        let d = self.config.embedding_dim;
        out.fill(0.0);
        let ids = tokens.as_slice();
        for &id in ids {
            let row = &self.embedding[id as usize * d..(id as usize + 1) * d];
            out.iter_mut().zip(row).for_each(|(o, &e)| *o += e);
        }
        if !ids.is_empty() {
            let scale = 1.0 / ids.len() as f32;
            out.iter_mut().for_each(|o| *o *= scale);
        }
    }

    /// The key encoder's input for `key`.
    fn key_input(&self, key: &Tokens) -> Vec<f32> {
        let mut row = vec![0.0; self.config.embedding_dim];
        self.pool(key, &mut row);
        row
    }

    /// The element encoder's input for element `e` under key `key`.
    fn element_input(&self, e: &GoalElement, key: &Tokens, row: &mut [f32]) {
        let d = self.config.embedding_dim;
        for (i, tokens) in [
            &e.text_tokens,
            &e.name_tokens,
            &e.label_tokens,
            &e.value_tokens,
        ]
        .into_iter()
        .enumerate()
        {
            self.pool(tokens, &mut row[i * d..(i + 1) * d]);
        }
        let kinds = &mut row[4 * d..4 * d + ElementKind::COUNT];
        kinds.fill(0.0);
        kinds[e.kind as usize] = 1.0;
        let flags = &mut row[4 * d + ElementKind::COUNT..];
        flags[0] = f32::from(u8::from(e.set));
        flags[1] = f32::from(u8::from(e.widget.is_some()));
        flags[2] = overlap(key, &e.name_tokens);
        flags[3] = overlap(key, &e.label_tokens);
        flags[4] = overlap(key, &e.text_tokens);
    }

    /// Every element's input row under `key` (`elements × element_inputs`).
    fn element_inputs(&self, view: &GoalView, key: usize) -> Result<Array2<f32>> {
        let width = self.config.element_inputs();
        let key_tokens = view
            .key_tokens
            .get(key)
            .ok_or_else(|| StudentError::InvalidConfig {
                field: "key",
                reason: format!("{key} is not one of the view's {} keys", view.keys.len()),
            })?;
        if view.elements.is_empty() {
            return Err(StudentError::InvalidConfig {
                field: "view",
                reason: "a goal view without elements".into(),
            });
        }
        let mut rows = Array2::zeros((view.elements.len(), width));
        for (e, mut row) in view.elements.iter().zip(rows.rows_mut()) {
            self.element_input(
                e,
                key_tokens,
                row.as_slice_mut().expect("rows of a standard array"),
            );
        }
        Ok(rows)
    }

    /// `Q^I(s, a^D)` for every element and `Q^I(s, a^A | a^D = j)` for each element `j`
    /// (`elements × GOAL_ATTRIBUTES`).
    ///
    /// # Errors
    /// A key outside the view, an empty view.
    pub fn q_values(&self, view: &GoalView, key: usize) -> Result<(Vec<f32>, Array2<f32>)> {
        let inputs = self.element_inputs(view, key)?;
        let key_row = self.key_input(&view.key_tokens[key]);
        let f = self.key_net.predict(
            Array2::from_shape_vec((1, key_row.len()), key_row)
                .expect("one row")
                .view(),
        )?;
        let h = self.element_net.predict(inputs.view())?;
        let f_row = f.row(0);
        let q_element: Vec<f32> = h.rows().into_iter().map(|r| r.dot(&f_row)).collect();
        let enc = self.config.encoding_dim;
        let mut joint = Array2::zeros((h.nrows(), 2 * enc));
        joint.slice_mut(s![.., ..enc]).assign(&h);
        for mut r in joint.rows_mut() {
            r.slice_mut(s![enc..]).assign(&f_row);
        }
        let q_attribute = self.attribute_net.predict(joint.view())?;
        Ok((q_element, q_attribute))
    }

    /// The greedy answer for key `key` of `view`: `(element, attribute index)`.
    ///
    /// # Errors
    /// As [`Inet::q_values`].
    pub fn answer(&self, view: &GoalView, key: usize) -> Result<(usize, usize)> {
        let (q_element, q_attribute) = self.q_values(view, key)?;
        let j = argmax(&q_element);
        let a = argmax(q_attribute.row(j).as_slice().expect("standard layout"));
        Ok((j, a))
    }

    /// Share of keys answered correctly (reward +1) by the greedy policy on `forms` forms of
    /// `env_config`'s task space, form `i` drawn with seed `seed + i` on a task sampled from
    /// `seed`. With `random`, a uniform element and attribute instead (the chance level).
    ///
    /// # Errors
    /// A bad env configuration.
    pub fn accuracy(
        &self,
        env_config: &WebFormConfig,
        forms: usize,
        seed: u64,
        random: bool,
    ) -> Result<f64> {
        let mut env = InstructionEnv::new(env_config.clone())?;
        let space = env.task_space().clone();
        let mut rng = Pcg64::seed_from_u64(seed);
        let (mut right, mut total) = (0usize, 0usize);
        for i in 0..forms {
            let task = space.sample(&mut rng);
            env.reset(Some(seed.wrapping_add(i as u64)), &task)?;
            while let Some(key) = env.current_key()? {
                let (j, a) = if random {
                    let n = env.view()?.elements.len();
                    (rng.random_range(0..n), rng.random_range(0..GOAL_ATTRIBUTES))
                } else {
                    self.answer(env.view()?, key)?
                };
                let (reward, _) = env.step(j, GoalAttribute::ALL[a])?;
                right += usize::from(reward > 0.0);
                total += 1;
            }
        }
        Ok(right as f64 / total.max(1) as f64)
    }

    /// The network as JSON text (configuration, embedding table, the three MLPs).
    pub fn to_json(&self) -> String {
        let state = InetCheckpoint {
            format_version: INET_CHECKPOINT_VERSION,
            config: self.config.clone(),
            vocab_size: vocab_size(),
            embedding: self.embedding.clone(),
            key_net: Checkpoint::capture(&self.key_net, None),
            element_net: Checkpoint::capture(&self.element_net, None),
            attribute_net: Checkpoint::capture(&self.attribute_net, None),
        };
        serde_json::to_string(&state).expect("an INET checkpoint has only plain values")
    }

    /// Restores a network written by [`Inet::to_json`].
    ///
    /// # Errors
    /// [`StudentError::UnsupportedCheckpointVersion`] for another version,
    /// [`StudentError::CorruptCheckpoint`] for unparsable or inconsistent text (shapes that do
    /// not match the configuration or the vocabulary, non-finite values).
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| StudentError::CorruptCheckpoint { reason };
        let state: InetCheckpoint =
            serde_json::from_str(text).map_err(|e| corrupt(format!("INET checkpoint: {e}")))?;
        if state.format_version != INET_CHECKPOINT_VERSION {
            return Err(StudentError::UnsupportedCheckpointVersion {
                found: state.format_version,
                supported: INET_CHECKPOINT_VERSION,
            });
        }
        let fresh = Inet::new(state.config, 0).map_err(|e| corrupt(format!("INET config: {e}")))?;
        if state.vocab_size != vocab_size() {
            return Err(corrupt(format!(
                "INET vocabulary has {} words, this build {}",
                state.vocab_size,
                vocab_size()
            )));
        }
        if state.embedding.len() != fresh.embedding.len()
            || state.embedding.iter().any(|x| !x.is_finite())
        {
            return Err(corrupt(format!(
                "INET embedding has {} values (need {}, all finite)",
                state.embedding.len(),
                fresh.embedding.len()
            )));
        }
        let restore = |name: &str, checkpoint: &Checkpoint, like: &Mlp| -> Result<Mlp> {
            let (net, _) = checkpoint
                .restore()
                .map_err(|e| corrupt(format!("INET {name}: {e}")))?;
            if net.config().layer_sizes() != like.config().layer_sizes() {
                return Err(corrupt(format!(
                    "INET {name} has layers {:?}, the config needs {:?}",
                    net.config().layer_sizes(),
                    like.config().layer_sizes()
                )));
            }
            Ok(net)
        };
        Ok(Inet {
            key_net: restore("key_net", &state.key_net, &fresh.key_net)?,
            element_net: restore("element_net", &state.element_net, &fresh.element_net)?,
            attribute_net: restore("attribute_net", &state.attribute_net, &fresh.attribute_net)?,
            embedding: state.embedding,
            config: fresh.config,
        })
    }
}

fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

impl Instructor for Inet {
    fn instruct(
        &mut self,
        view: &GoalView,
        key: usize,
    ) -> teachgym_core::Result<(usize, GoalAttribute)> {
        let (j, a) = self
            .answer(view, key)
            .map_err(|e| teachgym_core::Error::InvalidConfig {
                field: "inet".into(),
                reason: e.to_string(),
            })?;
        Ok((j, GoalAttribute::ALL[a]))
    }
}

/// One answer in replay: only the chosen element's row is kept (its Q-values depend on no
/// other element).
#[derive(Debug, Clone)]
struct Answer {
    key_row: Vec<f32>,
    element_row: Vec<f32>,
    attribute: usize,
    reward: f32,
}

/// INET's DQN training on the instruction-generation env (see the module docs).
pub struct InetTrainer {
    inet: Inet,
    env: InstructionEnv,
    space: TaskSpace,
    adams: [Adam; 3],
    replay: Vec<Answer>,
    next_slot: usize,
    rng: Pcg64,
    answers: u64,
    caches: [ForwardCache; 3],
}

impl InetTrainer {
    /// A fresh INET (drawn from `seed`) and an instruction env on `env_config`'s forms.
    ///
    /// # Errors
    /// A bad INET or env configuration.
    pub fn new(config: InetConfig, env_config: WebFormConfig, seed: u64) -> Result<Self> {
        let inet = Inet::new(config, seed)?;
        let adam_config = AdamConfig {
            learning_rate: inet.config.learning_rate,
            ..AdamConfig::default()
        };
        let adams = [
            Adam::new(adam_config, &inet.key_net)?,
            Adam::new(adam_config, &inet.element_net)?,
            Adam::new(adam_config, &inet.attribute_net)?,
        ];
        let env = InstructionEnv::new(WebFormConfig {
            seed: seed ^ 0x1E7,
            ..env_config
        })?;
        Ok(InetTrainer {
            space: env.task_space().clone(),
            env,
            inet,
            adams,
            replay: Vec::new(),
            next_slot: 0,
            rng: Pcg64::seed_from_u64(seed.wrapping_add(1)),
            answers: 0,
            caches: Default::default(),
        })
    }

    /// The network trained so far.
    pub fn inet(&self) -> &Inet {
        &self.inet
    }

    /// Answers given so far.
    pub fn answers(&self) -> u64 {
        self.answers
    }

    /// Gives `answers` more answers (ε-greedy), learning from replay after each once past
    /// `learning_starts`.
    ///
    /// # Errors
    /// Network or env errors.
    pub fn train(&mut self, answers: u64) -> Result<()> {
        for _ in 0..answers {
            let key = match self.env.current_key() {
                Ok(Some(key)) => key,
                _ => {
                    let task = self.space.sample(&mut self.rng);
                    self.env.reset(None, &task)?;
                    self.env
                        .current_key()?
                        .expect("a form has at least one key")
                }
            };
            let view = self.env.view()?;
            let inputs = self.inet.element_inputs(view, key)?;
            let key_row = self.inet.key_input(&view.key_tokens[key]);
            let (element, attribute) =
                if self.rng.random::<f64>() < self.inet.config.epsilon(self.answers) {
                    (
                        self.rng.random_range(0..view.elements.len()),
                        self.rng.random_range(0..GOAL_ATTRIBUTES),
                    )
                } else {
                    self.inet.answer(view, key)?
                };
            let (reward, _) = self.env.step(element, GoalAttribute::ALL[attribute])?;
            let answer = Answer {
                key_row,
                element_row: inputs.row(element).to_vec(),
                attribute,
                reward: reward as f32,
            };
            if self.replay.len() < self.inet.config.buffer_size {
                self.replay.push(answer);
            } else {
                self.replay[self.next_slot] = answer;
            }
            self.next_slot = (self.next_slot + 1) % self.inet.config.buffer_size;
            self.answers += 1;
            if self.answers > self.inet.config.learning_starts
                && self.replay.len() >= self.inet.config.batch_size
            {
                self.learn()?;
            }
        }
        Ok(())
    }

    /// One gradient step on a replay batch: both heads regress to the reward (squared error).
    fn learn(&mut self) -> Result<()> {
        let c = &self.inet.config;
        let (b, d, enc) = (c.batch_size, c.embedding_dim, c.encoding_dim);
        let width = c.element_inputs();
        let batch: Vec<usize> = (0..b)
            .map(|_| self.rng.random_range(0..self.replay.len()))
            .collect();
        let mut keys = Array2::zeros((b, d));
        let mut elements = Array2::zeros((b, width));
        for (row, &i) in batch.iter().enumerate() {
            let answer = &self.replay[i];
            keys.row_mut(row)
                .as_slice_mut()
                .expect("standard layout")
                .copy_from_slice(&answer.key_row);
            elements
                .row_mut(row)
                .as_slice_mut()
                .expect("standard layout")
                .copy_from_slice(&answer.element_row);
        }
        let [key_cache, element_cache, attribute_cache] = &mut self.caches;
        let f = self
            .inet
            .key_net
            .forward(keys.view(), key_cache)?
            .to_owned();
        let h = self
            .inet
            .element_net
            .forward(elements.view(), element_cache)?
            .to_owned();
        let mut joint = Array2::zeros((b, 2 * enc));
        joint.slice_mut(s![.., ..enc]).assign(&h);
        joint.slice_mut(s![.., enc..]).assign(&f);
        let qa = self
            .inet
            .attribute_net
            .forward(joint.view(), attribute_cache)?
            .to_owned();
        let mut d_attribute = Array2::zeros((b, GOAL_ATTRIBUTES));
        let mut d_f = Array2::zeros((b, enc));
        let mut d_h = Array2::zeros((b, enc));
        let scale = 1.0 / b as f32;
        for (row, &i) in batch.iter().enumerate() {
            let answer = &self.replay[i];
            let q_element = h.row(row).dot(&f.row(row));
            let err_element = (q_element - answer.reward) * scale;
            d_f.row_mut(row).scaled_add(err_element, &h.row(row));
            d_h.row_mut(row).scaled_add(err_element, &f.row(row));
            d_attribute[[row, answer.attribute]] =
                (qa[[row, answer.attribute]] - answer.reward) * scale;
        }
        let mut grads = [
            Gradients::zeros_like(&self.inet.key_net),
            Gradients::zeros_like(&self.inet.element_net),
            Gradients::zeros_like(&self.inet.attribute_net),
        ];
        let d_joint = self.inet.attribute_net.backward_with_input_gradient(
            attribute_cache,
            d_attribute.view(),
            &mut grads[2],
        )?;
        d_h += &d_joint.slice(s![.., ..enc]);
        d_f += &d_joint.slice(s![.., enc..]);
        self.inet
            .element_net
            .backward(element_cache, d_h.view(), &mut grads[1])?;
        self.inet
            .key_net
            .backward(key_cache, d_f.view(), &mut grads[0])?;
        if let Some(max_norm) = self.inet.config.max_grad_norm {
            let [g0, g1, g2] = &mut grads;
            clip_global_norm(&mut [g0, g1, g2], max_norm)?;
        }
        self.adams[0].step(&mut self.inet.key_net, &grads[0])?;
        self.adams[1].step(&mut self.inet.element_net, &grads[1])?;
        self.adams[2].step(&mut self.inet.attribute_net, &grads[2])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_forms() -> WebFormConfig {
        // 1–3 fields, one page, no distractors or noise, every widget kind.
        let mut task_low = vec![0.0; 9];
        task_low[8] = 1.0;
        let mut task_high = vec![0.0; 9];
        task_high[0] = 1.0;
        task_high[1] = 1.0;
        task_high[7] = 1.0;
        task_high[8] = 1.0;
        WebFormConfig {
            max_fields: 3,
            max_pages: 1,
            max_elements: 32,
            task_low,
            task_high,
            ..WebFormConfig::default()
        }
    }

    #[test]
    fn inet_learns_to_recover_instructions_on_small_forms() {
        let env_config = small_forms();
        let config = InetConfig {
            exploration_steps: 1500,
            ..InetConfig::default()
        };
        let mut trainer = InetTrainer::new(config, env_config.clone(), 0).unwrap();
        let untrained = trainer.inet().accuracy(&env_config, 60, 7, false).unwrap();
        let chance = trainer.inet().accuracy(&env_config, 60, 7, true).unwrap();
        trainer.train(3000).unwrap();
        let trained = trainer.inet().accuracy(&env_config, 60, 7, false).unwrap();
        eprintln!("INET accuracy: untrained {untrained}, chance {chance}, trained {trained}");
        assert!(
            trained > 0.8 && trained > chance + 0.5 && trained > untrained + 0.3,
            "accuracy {trained} after 3000 answers (untrained {untrained}, chance {chance})"
        );
    }

    #[test]
    fn inet_checkpoints_round_trip_and_refuse_corruption() {
        let config = InetConfig {
            encoder_hidden: vec![8],
            attribute_hidden: vec![8],
            encoding_dim: 4,
            embedding_dim: 4,
            ..InetConfig::default()
        };
        let inet = Inet::new(config, 3).unwrap();
        let text = inet.to_json();
        let back = Inet::from_json(&text).unwrap();
        assert_eq!(back.to_json(), text);
        assert!(matches!(
            Inet::from_json("{not json"),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["embedding"].as_array_mut().unwrap().pop();
        assert!(matches!(
            Inet::from_json(&value.to_string()),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["config"]["encoding_dim"] = 5.into();
        assert!(matches!(
            Inet::from_json(&value.to_string()),
            Err(StudentError::CorruptCheckpoint { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["format_version"] = 99.into();
        assert!(matches!(
            Inet::from_json(&value.to_string()),
            Err(StudentError::UnsupportedCheckpointVersion { found: 99, .. })
        ));
    }

    #[test]
    fn bad_inet_config_values_name_their_field() {
        for (config, field) in [
            (
                InetConfig {
                    embedding_dim: 0,
                    ..InetConfig::default()
                },
                "embedding_dim",
            ),
            (
                InetConfig {
                    learning_rate: f32::NAN,
                    ..InetConfig::default()
                },
                "learning_rate",
            ),
            (
                InetConfig {
                    buffer_size: 10,
                    ..InetConfig::default()
                },
                "buffer_size",
            ),
            (
                InetConfig {
                    end_epsilon: 1.5,
                    ..InetConfig::default()
                },
                "end_epsilon",
            ),
            (
                InetConfig {
                    exploration_steps: 0,
                    ..InetConfig::default()
                },
                "exploration_steps",
            ),
            (
                InetConfig {
                    max_grad_norm: Some(-1.0),
                    ..InetConfig::default()
                },
                "max_grad_norm",
            ),
        ] {
            match config.validate() {
                Err(StudentError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
