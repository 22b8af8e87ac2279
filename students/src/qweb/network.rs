//! The QWeb-style factorised Q-network and its hand-derived backward pass.
//!
//! For one observation with `F_b` real fields and `E_b` real elements:
//!
//! 1. token embeddings (a learned `vocab × d` table), mean-pooled per string (padding ignored;
//!    an empty string pools to zeros);
//! 2. field encoder `g_j = MLP_F([key_j, value_j])`, element encoder
//!    `h_e = MLP_E([tag_e, text_e, name_e, value_e, features_e])`, both with tanh outputs;
//! 3. pair head over every (element, field): `MLP_P([h_e, g_j, match_je, sat_j]) = (Q_type(e, j),
//!    u_je)`, where `match_je` are the env's three word-overlap features and `sat_j` says whether
//!    some element already holds field `j`'s value (with `satisfied_across_pages`, some widget
//!    on any page: the observation's `instr_placed`);
//! 4. click head per element: `Q_click(e) = MLP_C([h_e, mean_j u_je, progress, mean_j sat_j])`.
//!
//! Two options bring the pair head closer to QWeb's network, where fields and elements meet in
//! a product (`M = f · E_treeᵀ`) and each element is encoded in its document context (a biLSTM
//! over the element list):
//! - `pair_product`: the pair head also reads `h_e ⊙ g_j`, so a key and a label that the
//!   embeddings bring close (a synonym, an abbreviation) score high without the MLP having to
//!   learn a similarity from a concatenation;
//! - `row_context`: each element's encoder also reads the pooled text of its row's label (the
//!   nearest earlier `label` element with the same parent), and the pair head the word-overlap
//!   features of that label with the field, so an input whose only name is a separate label
//!   element (`label_ambiguity`) and the options of a radio or checkbox group can be told apart;
//! - `soft_match`: the pair head also reads the dot products of the field's pooled key embedding
//!   with the element's pooled text, name and (with `row_context`) row-label embeddings, QWeb's
//!   field–element intersection at the word level: the gradient of a rewarded `Type` pulls a
//!   label's words (`surname`) towards its key's (`last name`), which the word-overlap features
//!   cannot see.
//!
//! With `validation_marks` the element features include the `invalid` mark that a refused Next
//! puts on the page's empty required widgets; without it (a network trained before the mark
//! existed) the encoder reads every feature but that last one.
//!
//! Every weight is shared across elements and fields (QWeb's factorisation), so the parameter
//! count does not depend on the caps; the work grows with `E_b · F_b`.

use ndarray::{s, Array2, ArrayView2};
use rand::Rng;
use teachgym_envs::webform::{
    ElementKind, ATTRIBUTES, ELEMENT_FEATURES, INVALID_FEATURE, MATCH_FEATURES, PARENT_FEATURE,
    PROGRESS_FEATURES,
};

use super::snapshot::{FormShape, FormSnapshot};
use crate::activation::Activation;
use crate::error::Result;
use crate::gradients::Gradients;
use crate::mlp::{polyak_update, ForwardCache, Mlp, MlpConfig};

/// Widths of the network (from [`super::QwebDqnConfig`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NetworkShape {
    pub embedding_dim: usize,
    pub encoder_hidden: Vec<usize>,
    pub encoding_dim: usize,
    pub pair_hidden: Vec<usize>,
    pub pooled_dim: usize,
    pub click_hidden: Vec<usize>,
    pub pair_product: bool,
    pub row_context: bool,
    pub soft_match: bool,
    pub satisfied_across_pages: bool,
    pub validation_marks: bool,
}

/// Dot products of the pooled key with the element's text, name and row label (`soft_match`).
const SOFT_MATCHES: usize = 3;

/// Extra inputs of the pair head after `[h_e, g_j]`: the match features and `sat_j`.
const PAIR_EXTRA: usize = MATCH_FEATURES + 1;
/// Extra inputs of the click head after `[h_e, pooled]`: progress and the satisfied fraction.
const CLICK_EXTRA: usize = PROGRESS_FEATURES + 1;

/// The four MLPs' configurations, in the order field encoder, element encoder, pair head,
/// click head.
pub(crate) fn mlp_configs(shape: &NetworkShape) -> [MlpConfig; 4] {
    let (d, h, k) = (shape.embedding_dim, shape.encoding_dim, shape.pooled_dim);
    let encoder = |inputs| {
        let mut c = MlpConfig::new(inputs, &shape.encoder_hidden, Activation::Relu, h);
        c.layers.last_mut().expect("output layer").activation = Activation::Tanh;
        c
    };
    let pair = PairLayout::new(h, shape.pair_product, shape.row_context, shape.soft_match);
    [
        encoder(2 * d),
        encoder(
            row_label_at(d, element_features_read(shape.validation_marks))
                + usize::from(shape.row_context) * d,
        ),
        MlpConfig::new(pair.width, &shape.pair_hidden, Activation::Relu, 1 + k),
        MlpConfig::new(
            h + k + CLICK_EXTRA,
            &shape.click_hidden,
            Activation::Relu,
            1,
        ),
    ]
}

/// Half-width of the uniform initialisation of the embedding table.
pub(crate) const EMBEDDING_INIT_SCALE: f32 = 0.5;

/// Parameters of the Q-network.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QwebNet {
    pub embedding_dim: usize,
    /// `vocab × embedding_dim`, row-major; row 0 (padding) is never read.
    pub embedding: Vec<f32>,
    /// Field encoder, element encoder, pair head, click head.
    pub mlps: [Mlp; 4],
    /// The pair head reads `h_e ⊙ g_j` (see the module docs).
    pub pair_product: bool,
    /// Elements are encoded with their row's label (see the module docs).
    pub row_context: bool,
    /// The pair head reads key–element embedding dot products (see the module docs).
    pub soft_match: bool,
    /// `sat_j` counts a value placed on any page (see [`FormSnapshot::field_satisfied`]).
    pub satisfied_across_pages: bool,
    /// Element features the element encoder reads: the first this many of each row (all of
    /// them, or all but the last, `invalid`, for a network trained before it existed).
    pub element_features: usize,
}

/// Gradients of a [`QwebNet`].
#[derive(Debug, Clone)]
pub(crate) struct QwebGrads {
    pub embedding: Vec<f32>,
    pub mlps: [Gradients; 4],
}

impl QwebGrads {
    pub fn zeros_like(net: &QwebNet) -> Self {
        QwebGrads {
            embedding: vec![0.0; net.embedding.len()],
            mlps: std::array::from_fn(|i| Gradients::zeros_like(&net.mlps[i])),
        }
    }

    /// Every gradient tensor, in [`QwebNet::parameter_slices`] order.
    pub fn slices(&self) -> Vec<&[f32]> {
        let mut out = vec![self.embedding.as_slice()];
        for g in &self.mlps {
            out.extend(g.slices());
        }
        out
    }

    /// Euclidean norm of every gradient element.
    pub fn norm(&self) -> f64 {
        let sq: f64 = self
            .embedding
            .iter()
            .map(|&g| (g as f64) * (g as f64))
            .sum();
        (sq + self.mlps.iter().map(Gradients::squared_norm).sum::<f64>()).sqrt()
    }

    /// Scales to a global norm of at most `max_norm` (factor `max_norm / (norm + 1e-6)`, as
    /// [`crate::clip_global_norm`]); returns the norm before clipping.
    pub fn clip(&mut self, max_norm: f32) -> f64 {
        let norm = self.norm();
        let factor = max_norm as f64 / (norm + 1e-6);
        if factor < 1.0 {
            self.embedding.iter_mut().for_each(|g| *g *= factor as f32);
            self.mlps.iter_mut().for_each(|g| g.scale(factor as f32));
        }
        norm
    }
}

/// Activations of one forward pass, kept for the backward pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pass {
    caches: [ForwardCache; 4],
    /// Per batch item: first row of its fields, elements and pairs (plus one past the end).
    field_offset: Vec<usize>,
    element_offset: Vec<usize>,
    pair_offset: Vec<usize>,
    encoded_fields: Array2<f32>,
    encoded_elements: Array2<f32>,
    pair_out: Array2<f32>,
    /// Per batch item (with `row_context`): each element's row label.
    row_labels: Vec<Vec<Option<usize>>>,
    /// The encoders' inputs (pooled embeddings), for `soft_match`'s backward pass.
    field_in: Array2<f32>,
    element_in: Array2<f32>,
}

/// The row label of element `e` of batch item `b` in [`Pass::row_labels`] (none without
/// `row_context`, when the list is empty).
fn row_label(row_labels: &[Vec<Option<usize>>], b: usize, e: usize) -> Option<usize> {
    row_labels.get(b).and_then(|labels| labels[e])
}

impl Pass {
    /// Every (element, field) pair of `batch` as (pair row, element row, field row), in the
    /// order of the pair head's input rows.
    fn pair_rows<'a>(
        &'a self,
        batch: &'a [&FormSnapshot],
    ) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
        batch.iter().enumerate().flat_map(move |(b, s)| {
            (0..s.n_elements).flat_map(move |e| {
                (0..s.n_fields).map(move |j| {
                    (
                        self.pair_offset[b] + e * s.n_fields + j,
                        self.element_offset[b] + e,
                        self.field_offset[b] + j,
                    )
                })
            })
        })
    }
}

/// Offsets of the pair head's optional inputs, in input order, and its input width.
struct PairLayout {
    product_at: usize,
    context_at: usize,
    soft_at: usize,
    width: usize,
}

impl PairLayout {
    /// The layout for encodings of width `h` and the options that are on.
    fn new(h: usize, pair_product: bool, row_context: bool, soft_match: bool) -> Self {
        let product_at = 2 * h + PAIR_EXTRA;
        let context_at = product_at + usize::from(pair_product) * h;
        let soft_at = context_at + usize::from(row_context) * MATCH_FEATURES;
        let width = soft_at + usize::from(soft_match) * SOFT_MATCHES;
        PairLayout {
            product_at,
            context_at,
            soft_at,
            width,
        }
    }
}

/// How many of an element's features the element encoder reads: all, or all but the last
/// ([`INVALID_FEATURE`], which networks trained before it existed do not read).
pub(crate) fn element_features_read(validation_marks: bool) -> usize {
    const _: () = assert!(INVALID_FEATURE == ELEMENT_FEATURES - 1);
    ELEMENT_FEATURES - usize::from(!validation_marks)
}

/// Column of an element encoder's input where the row label's pooled text starts (after the
/// pooled attributes and the `k` element features read), for embeddings of width `d`.
fn row_label_at(d: usize, k: usize) -> usize {
    ATTRIBUTES * d + k
}

/// Columns of an element encoder's input holding the pooled text, name and row label, in
/// [`SOFT_MATCHES`] order (the row label's only with `row_context`).
fn soft_match_columns(d: usize, k: usize, row_context: bool) -> [Option<usize>; SOFT_MATCHES] {
    [
        Some(d),
        Some(2 * d),
        row_context.then_some(row_label_at(d, k)),
    ]
}

/// Mean of the embeddings of the non-padding `ids` into `out` (zeros if there are none).
fn pool(embedding: &[f32], d: usize, ids: &[u16], out: &mut [f32]) {
    out.fill(0.0);
    let mut n = 0;
    for &id in ids.iter().filter(|&&id| id != 0) {
        let row = &embedding[usize::from(id) * d..(usize::from(id) + 1) * d];
        out.iter_mut().zip(row).for_each(|(o, &w)| *o += w);
        n += 1;
    }
    if n > 0 {
        let scale = 1.0 / n as f32;
        out.iter_mut().for_each(|o| *o *= scale);
    }
}

/// Backprop of [`pool`]: adds `d_out / n` to the rows of the non-padding `ids`.
fn pool_backward(d_embedding: &mut [f32], d: usize, ids: &[u16], d_out: &[f32]) {
    let n = ids.iter().filter(|&&id| id != 0).count();
    if n == 0 {
        return;
    }
    let scale = 1.0 / n as f32;
    for &id in ids.iter().filter(|&&id| id != 0) {
        let row = &mut d_embedding[usize::from(id) * d..(usize::from(id) + 1) * d];
        row.iter_mut()
            .zip(d_out)
            .for_each(|(g, &x)| *g += x * scale);
    }
}

/// Per element of `s`, the index of its row's label: the nearest earlier element of kind
/// `label` with the same parent (read back from the parent feature, `(parent + 1) / E`).
pub(crate) fn row_labels(s: &FormSnapshot, max_elements: usize) -> Vec<Option<usize>> {
    let label = ElementKind::ALL
        .iter()
        .position(|&k| k == ElementKind::Label)
        .expect("labels are an element kind");
    let mut last_label_of_parent: Vec<Option<usize>> = vec![None; max_elements + 1];
    (0..s.n_elements)
        .map(|e| {
            let feat = &s.element_features[e * ELEMENT_FEATURES..(e + 1) * ELEMENT_FEATURES];
            let parent =
                ((feat[PARENT_FEATURE] * max_elements as f32).round() as usize).min(max_elements);
            let context = last_label_of_parent[parent];
            if parent > 0 && feat[label] > 0.5 {
                last_label_of_parent[parent] = Some(e);
            }
            context.filter(|_| parent > 0)
        })
        .collect()
}

/// The visible-text tokens of element `e` of `s`.
fn text_tokens(s: &FormSnapshot, e: usize, t: usize) -> &[u16] {
    let at = (e * ATTRIBUTES + 1) * t;
    &s.element_tokens[at..at + t]
}

impl QwebNet {
    /// A fresh network drawn from `rng`: the embedding table uniform in
    /// `±EMBEDDING_INIT_SCALE`, then the four MLPs in order.
    pub fn new<R: Rng + ?Sized>(
        shape: &NetworkShape,
        form: &FormShape,
        rng: &mut R,
    ) -> Result<Self> {
        let d = shape.embedding_dim;
        let embedding = (0..form.vocab * d)
            .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * EMBEDDING_INIT_SCALE)
            .collect();
        let [a, b, c, e] = mlp_configs(shape);
        Ok(QwebNet {
            embedding_dim: d,
            embedding,
            mlps: [
                Mlp::new(a, rng)?,
                Mlp::new(b, rng)?,
                Mlp::new(c, rng)?,
                Mlp::new(e, rng)?,
            ],
            pair_product: shape.pair_product,
            row_context: shape.row_context,
            soft_match: shape.soft_match,
            satisfied_across_pages: shape.satisfied_across_pages,
            element_features: element_features_read(shape.validation_marks),
        })
    }

    fn encoding_dim(&self) -> usize {
        self.mlps[0].outputs()
    }

    fn pooled_dim(&self) -> usize {
        self.mlps[2].outputs() - 1
    }

    fn pair_layout(&self) -> PairLayout {
        PairLayout::new(
            self.encoding_dim(),
            self.pair_product,
            self.row_context,
            self.soft_match,
        )
    }

    /// Every parameter tensor: the embedding table, then each MLP's `W_1, b_1, …`.
    pub fn parameter_slices(&self) -> Vec<&[f32]> {
        let mut out = vec![self.embedding.as_slice()];
        for m in &self.mlps {
            out.extend(m.parameter_slices());
        }
        out
    }

    /// As [`QwebNet::parameter_slices`], mutable.
    pub fn parameter_slices_mut(&mut self) -> Vec<&mut [f32]> {
        let mut out = vec![self.embedding.as_mut_slice()];
        for m in &mut self.mlps {
            out.extend(m.parameter_slices_mut());
        }
        out
    }

    /// `θ' ← τ·θ + (1 − τ)·θ'`; τ = 1 copies exactly.
    pub fn update_towards(&mut self, online: &QwebNet, tau: f32) {
        if tau == 1.0 {
            self.clone_from(online);
            return;
        }
        polyak_update(self.parameter_slices_mut(), online.parameter_slices(), tau);
    }

    /// Q-values of every flat action (`batch × form.n_actions()`; actions on padding slots or
    /// fields are 0), keeping activations in `pass`.
    pub fn forward(
        &self,
        batch: &[&FormSnapshot],
        form: &FormShape,
        pass: &mut Pass,
    ) -> Result<Array2<f32>> {
        let (d, h, k, t) = (
            self.embedding_dim,
            self.encoding_dim(),
            self.pooled_dim(),
            form.tokens_per_string,
        );
        pass.field_offset.clear();
        pass.element_offset.clear();
        pass.pair_offset.clear();
        pass.row_labels.clear();
        let (mut nf, mut ne, mut np) = (0, 0, 0);
        for s in batch {
            pass.field_offset.push(nf);
            pass.element_offset.push(ne);
            pass.pair_offset.push(np);
            nf += s.n_fields;
            ne += s.n_elements;
            np += s.n_fields * s.n_elements;
        }
        pass.field_offset.push(nf);
        pass.element_offset.push(ne);
        pass.pair_offset.push(np);

        if self.row_context {
            for s in batch {
                pass.row_labels.push(row_labels(s, form.max_elements));
            }
        }
        let mut field_in = Array2::<f32>::zeros((nf, 2 * d));
        let mut element_in = Array2::<f32>::zeros((ne, self.mlps[1].inputs()));
        for (b, s) in batch.iter().enumerate() {
            for j in 0..s.n_fields {
                let mut row = field_in.row_mut(pass.field_offset[b] + j);
                let row = row.as_slice_mut().expect("standard layout");
                pool(
                    &self.embedding,
                    d,
                    &s.key_tokens[j * t..(j + 1) * t],
                    &mut row[..d],
                );
                pool(
                    &self.embedding,
                    d,
                    &s.value_tokens[j * t..(j + 1) * t],
                    &mut row[d..],
                );
            }
            for e in 0..s.n_elements {
                let mut row = element_in.row_mut(pass.element_offset[b] + e);
                let row = row.as_slice_mut().expect("standard layout");
                for a in 0..ATTRIBUTES {
                    let at = (e * ATTRIBUTES + a) * t;
                    pool(
                        &self.embedding,
                        d,
                        &s.element_tokens[at..at + t],
                        &mut row[a * d..(a + 1) * d],
                    );
                }
                let k = self.element_features;
                row[ATTRIBUTES * d..row_label_at(d, k)].copy_from_slice(
                    &s.element_features[e * ELEMENT_FEATURES..e * ELEMENT_FEATURES + k],
                );
                if let Some(l) = row_label(&pass.row_labels, b, e) {
                    pool(
                        &self.embedding,
                        d,
                        text_tokens(s, l, t),
                        &mut row[row_label_at(d, k)..],
                    );
                }
            }
        }
        let [c_field, c_element, c_pair, c_click] = &mut pass.caches;
        pass.encoded_fields = self.mlps[0].forward(field_in.view(), c_field)?.to_owned();
        pass.encoded_elements = self.mlps[1]
            .forward(element_in.view(), c_element)?
            .to_owned();

        let PairLayout {
            product_at,
            context_at,
            soft_at,
            width,
        } = self.pair_layout();
        let soft_columns = soft_match_columns(d, self.element_features, self.row_context);
        let mut pair_in = Array2::<f32>::zeros((np, width));
        let mut satisfied_fraction = vec![0.0f32; batch.len()];
        for (b, s) in batch.iter().enumerate() {
            let sat: Vec<f32> = (0..s.n_fields)
                .map(|j| s.field_satisfied(j, self.satisfied_across_pages))
                .collect();
            satisfied_fraction[b] = sat.iter().sum::<f32>() / s.n_fields as f32;
            for e in 0..s.n_elements {
                let he = pass.encoded_elements.row(pass.element_offset[b] + e);
                for (j, &sat_j) in sat.iter().enumerate() {
                    let mut row = pair_in.row_mut(pass.pair_offset[b] + e * s.n_fields + j);
                    let row = row.as_slice_mut().expect("standard layout");
                    row[..h].copy_from_slice(he.as_slice().expect("standard layout"));
                    row[h..2 * h].copy_from_slice(
                        pass.encoded_fields
                            .row(pass.field_offset[b] + j)
                            .as_slice()
                            .expect("standard layout"),
                    );
                    let m = (j * s.n_elements + e) * MATCH_FEATURES;
                    row[2 * h..2 * h + MATCH_FEATURES]
                        .copy_from_slice(&s.match_features[m..m + MATCH_FEATURES]);
                    row[2 * h + MATCH_FEATURES] = sat_j;
                    if self.pair_product {
                        for c in 0..h {
                            row[product_at + c] = row[c] * row[h + c];
                        }
                    }
                    if let Some(l) = row_label(&pass.row_labels, b, e) {
                        let m = (j * s.n_elements + l) * MATCH_FEATURES;
                        row[context_at..context_at + MATCH_FEATURES]
                            .copy_from_slice(&s.match_features[m..m + MATCH_FEATURES]);
                    }
                    if self.soft_match {
                        let key = field_in.row(pass.field_offset[b] + j);
                        let element = element_in.row(pass.element_offset[b] + e);
                        for (i, column) in soft_columns.iter().enumerate() {
                            if let Some(at) = column {
                                row[soft_at + i] = (0..d).map(|c| key[c] * element[at + c]).sum();
                            }
                        }
                    }
                }
            }
        }
        pass.pair_out = self.mlps[2].forward(pair_in.view(), c_pair)?.to_owned();
        if self.soft_match {
            pass.field_in = field_in;
            pass.element_in = element_in;
        }

        let mut click_in = Array2::<f32>::zeros((ne, h + k + CLICK_EXTRA));
        for (b, s) in batch.iter().enumerate() {
            let inv_f = 1.0 / s.n_fields as f32;
            for e in 0..s.n_elements {
                let mut row = click_in.row_mut(pass.element_offset[b] + e);
                let row = row.as_slice_mut().expect("standard layout");
                row[..h].copy_from_slice(
                    pass.encoded_elements
                        .row(pass.element_offset[b] + e)
                        .as_slice()
                        .expect("standard layout"),
                );
                for j in 0..s.n_fields {
                    let u = pass.pair_out.row(pass.pair_offset[b] + e * s.n_fields + j);
                    for (r, &x) in row[h..h + k].iter_mut().zip(u.iter().skip(1)) {
                        *r += x * inv_f;
                    }
                }
                row[h + k..h + k + PROGRESS_FEATURES].copy_from_slice(&s.progress);
                row[h + k + PROGRESS_FEATURES] = satisfied_fraction[b];
            }
        }
        let click_out = self.mlps[3].forward(click_in.view(), c_click)?;

        let width = 1 + form.max_fields;
        let mut q = Array2::<f32>::zeros((batch.len(), form.n_actions()));
        for (b, s) in batch.iter().enumerate() {
            for e in 0..s.n_elements {
                q[(b, e * width)] = click_out[(pass.element_offset[b] + e, 0)];
                for j in 0..s.n_fields {
                    q[(b, e * width + 1 + j)] =
                        pass.pair_out[(pass.pair_offset[b] + e * s.n_fields + j, 0)];
                }
            }
        }
        Ok(q)
    }

    /// Backprop of `d_q` (`∂loss/∂Q`, the shape [`QwebNet::forward`] returned) through the last
    /// forward pass on `batch`, writing `∂loss/∂θ` into `grads` (overwritten).
    pub fn backward(
        &self,
        batch: &[&FormSnapshot],
        form: &FormShape,
        pass: &Pass,
        d_q: ArrayView2<'_, f32>,
        grads: &mut QwebGrads,
    ) -> Result<()> {
        let (d, h, k, t) = (
            self.embedding_dim,
            self.encoding_dim(),
            self.pooled_dim(),
            form.tokens_per_string,
        );
        let width = 1 + form.max_fields;
        let (nf, ne, np) = (
            pass.field_offset[batch.len()],
            pass.element_offset[batch.len()],
            pass.pair_offset[batch.len()],
        );
        let mut d_click = Array2::<f32>::zeros((ne, 1));
        for (b, s) in batch.iter().enumerate() {
            for e in 0..s.n_elements {
                d_click[(pass.element_offset[b] + e, 0)] = d_q[(b, e * width)];
            }
        }
        let d_click_in = self.mlps[3].backward_with_input_gradient(
            &pass.caches[3],
            d_click.view(),
            &mut grads.mlps[3],
        )?;
        let mut d_pair_out = Array2::<f32>::zeros((np, 1 + k));
        for (b, s) in batch.iter().enumerate() {
            let inv_f = 1.0 / s.n_fields as f32;
            for e in 0..s.n_elements {
                let row_e = pass.element_offset[b] + e;
                let d_pooled = d_click_in.slice(s![row_e, h..h + k]);
                for j in 0..s.n_fields {
                    let p = pass.pair_offset[b] + e * s.n_fields + j;
                    d_pair_out[(p, 0)] = d_q[(b, e * width + 1 + j)];
                    for (c, &g) in d_pooled.iter().enumerate() {
                        d_pair_out[(p, 1 + c)] = g * inv_f;
                    }
                }
            }
        }
        let d_pair_in = self.mlps[2].backward_with_input_gradient(
            &pass.caches[2],
            d_pair_out.view(),
            &mut grads.mlps[2],
        )?;
        let mut d_elements = d_click_in.slice(s![.., ..h]).to_owned();
        let mut d_fields = Array2::<f32>::zeros((nf, h));
        let PairLayout {
            product_at,
            soft_at,
            ..
        } = self.pair_layout();
        for (p, row_e, row_f) in pass.pair_rows(batch) {
            for c in 0..h {
                d_elements[(row_e, c)] += d_pair_in[(p, c)];
                d_fields[(row_f, c)] += d_pair_in[(p, h + c)];
            }
            if self.pair_product {
                // ∂(h_e ⊙ g_j)/∂h_e = g_j and /∂g_j = h_e.
                for c in 0..h {
                    let g = d_pair_in[(p, product_at + c)];
                    d_elements[(row_e, c)] += g * pass.encoded_fields[(row_f, c)];
                    d_fields[(row_f, c)] += g * pass.encoded_elements[(row_e, c)];
                }
            }
        }
        let mut d_element_in = self.mlps[1].backward_with_input_gradient(
            &pass.caches[1],
            d_elements.view(),
            &mut grads.mlps[1],
        )?;
        let mut d_field_in = self.mlps[0].backward_with_input_gradient(
            &pass.caches[0],
            d_fields.view(),
            &mut grads.mlps[0],
        )?;
        if self.soft_match {
            // ∂(k · x)/∂k = x and ∂(k · x)/∂x = k, into the pooled embeddings.
            let columns = soft_match_columns(d, self.element_features, self.row_context);
            for (p, row_e, row_f) in pass.pair_rows(batch) {
                for (i, column) in columns.iter().enumerate() {
                    let (Some(at), g) = (column, d_pair_in[(p, soft_at + i)]) else {
                        continue;
                    };
                    for c in 0..d {
                        d_field_in[(row_f, c)] += g * pass.element_in[(row_e, at + c)];
                        d_element_in[(row_e, at + c)] += g * pass.field_in[(row_f, c)];
                    }
                }
            }
        }
        grads.embedding.fill(0.0);
        for (b, s) in batch.iter().enumerate() {
            for j in 0..s.n_fields {
                let row = d_field_in.row(pass.field_offset[b] + j);
                let row = row.as_slice().expect("standard layout");
                let ids = &s.key_tokens[j * t..(j + 1) * t];
                pool_backward(&mut grads.embedding, d, ids, &row[..d]);
                let ids = &s.value_tokens[j * t..(j + 1) * t];
                pool_backward(&mut grads.embedding, d, ids, &row[d..2 * d]);
            }
            for e in 0..s.n_elements {
                let row = d_element_in.row(pass.element_offset[b] + e);
                let row = row.as_slice().expect("standard layout");
                for a in 0..ATTRIBUTES {
                    let at = (e * ATTRIBUTES + a) * t;
                    pool_backward(
                        &mut grads.embedding,
                        d,
                        &s.element_tokens[at..at + t],
                        &row[a * d..(a + 1) * d],
                    );
                }
                if let Some(l) = row_label(&pass.row_labels, b, e) {
                    pool_backward(
                        &mut grads.embedding,
                        d,
                        text_tokens(s, l, t),
                        &row[row_label_at(d, self.element_features)..],
                    );
                }
            }
        }
        Ok(())
    }
}
