//! Exact nearest-neighbour history for ALP: every past `(task, return)` pair, queried for the
//! task closest to a new one (Euclidean, raw task units).
//!
//! The answer is canonical: the smallest distance, ties going to the **most recent** point.
//! Exact ties in practice mean exact duplicate tasks (a teacher clipping Gaussian samples to the
//! bounds replays the very same corner task many times). For those, "the closest previous task"
//! must be the latest visit, so that ALP = |r − r_previous visit| decays once the task stops
//! improving. The reference's scipy cKDTree returns whichever duplicate its (rebuilt every 500
//! points) layout meets first, i.e. an arbitrary earlier visit, which also decays; "oldest wins"
//! would instead compare every replay with the very first return ever seen there, a constant ALP
//! that never fades and turns the corner into a permanent attractor (see the root BENCHMARKS.md §3.3).
//! Because the answer does not depend on the index layout, the index is not checkpointed; it is
//! rebuilt on restore.
//!
//! Layout: a logarithmic set of static kd-trees over consecutive insertion ranges (a binary
//! counter: every [`BUFFER_SIZE`] new points, scanned linearly until then, become a tree, and
//! equal-sized neighbours merge), so inserting costs O(log² n) amortised and a query visits
//! O(log n) trees. No periodic full rebuild stalls.

use serde::{Deserialize, Serialize};

/// Ranges up to this many points are scanned linearly instead of split.
const LEAF_SIZE: usize = 16;
/// The newest points, up to this many, are scanned linearly; each full buffer becomes a tree.
/// Building trees of 1, 2, 4, … points cost more than scanning them (half the per-insert cost).
const BUFFER_SIZE: usize = 64;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct NearestHistory {
    dim: usize,
    /// `n × dim`, in insertion order.
    points: Vec<f64>,
    values: Vec<f64>,
    #[serde(skip)]
    trees: Vec<StaticTree>,
}

/// A kd-tree over the points `start..start + len`, stored implicitly: `order` is a permutation of
/// the range where each subrange's middle element splits it on `split_dims[mid]`.
#[derive(Debug, Clone)]
struct StaticTree {
    start: usize,
    order: Vec<u32>,
    split_dims: Vec<u8>,
}

impl NearestHistory {
    pub(crate) fn new(dim: usize) -> Self {
        Self {
            dim,
            ..Self::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    pub(crate) fn is_consistent(&self) -> bool {
        self.dim > 0
            && self.points.len() == self.values.len() * self.dim
            && self
                .points
                .iter()
                .chain(&self.values)
                .all(|v| v.is_finite())
    }

    /// Appends a pair.
    pub(crate) fn insert(&mut self, point: &[f64], value: f64) {
        debug_assert_eq!(point.len(), self.dim);
        self.points.extend_from_slice(point);
        self.values.push(value);
        let n = self.len();
        let indexed = self.indexed_len();
        if n - indexed < BUFFER_SIZE {
            return;
        }
        self.trees.push(self.build(indexed, BUFFER_SIZE));
        // Binary counter: merge while the two newest trees have equal size.
        while self.trees.len() >= 2 {
            let last = self.trees.len() - 1;
            if self.trees[last].order.len() != self.trees[last - 1].order.len() {
                break;
            }
            let b = self.trees.pop().unwrap_or_else(|| unreachable!());
            let a = self.trees.pop().unwrap_or_else(|| unreachable!());
            let merged = self.build(a.start, a.order.len() + b.order.len());
            self.trees.push(merged);
        }
    }

    /// Rebuilds the index from the stored points (after deserialisation).
    pub(crate) fn rebuild_index(&mut self) {
        self.trees.clear();
        let mut start = 0;
        let units = self.len() / BUFFER_SIZE;
        // The binary counter's layout for `units` full buffers: one tree per set bit, largest
        // (oldest) first; the remainder stays in the buffer.
        for bit in (0..usize::BITS).rev() {
            if units & (1 << bit) != 0 {
                let size = (1usize << bit) * BUFFER_SIZE;
                let tree = self.build(start, size);
                self.trees.push(tree);
                start += size;
            }
        }
    }

    /// `(index, value)` of the nearest stored point to `query`, `None` when empty.
    pub(crate) fn nearest(&self, query: &[f64]) -> Option<(usize, f64)> {
        let mut best = (f64::INFINITY, usize::MAX);
        for i in self.indexed_len()..self.len() {
            self.consider(i, query, &mut best);
        }
        // Then the trees, newest first: once the best candidate is newer than every point of a tree, that
        // tree can only win with a strictly smaller distance, which prunes the search through
        // a pile of exact duplicates (a replayed corner task) instead of visiting them all.
        for tree in self.trees.iter().rev() {
            self.search(tree, 0, tree.order.len(), query, &mut best);
        }
        (best.1 != usize::MAX).then(|| (best.1, self.values[best.1]))
    }

    /// Points covered by the trees; the newer ones (fewer than [`BUFFER_SIZE`]) are scanned.
    fn indexed_len(&self) -> usize {
        self.trees.last().map_or(0, |t| t.start + t.order.len())
    }

    fn point(&self, i: usize) -> &[f64] {
        &self.points[i * self.dim..(i + 1) * self.dim]
    }

    fn build(&self, start: usize, len: usize) -> StaticTree {
        let mut order: Vec<u32> = (start as u32..(start + len) as u32).collect();
        let mut split_dims = vec![0u8; len];
        self.build_range(&mut order, &mut split_dims);
        StaticTree {
            start,
            order,
            split_dims,
        }
    }

    fn build_range(&self, order: &mut [u32], split_dims: &mut [u8]) {
        let len = order.len();
        if len <= LEAF_SIZE {
            return;
        }
        // Split on the dimension of largest spread, at the median.
        let d = self.dim;
        let mut best_dim = 0;
        let mut best_spread = -1.0;
        for j in 0..d {
            let (lo, hi) = order
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                    let v = self.points[i as usize * d + j];
                    (lo.min(v), hi.max(v))
                });
            if hi - lo > best_spread {
                best_spread = hi - lo;
                best_dim = j;
            }
        }
        let mid = len / 2;
        order.select_nth_unstable_by(mid, |&a, &b| {
            let va = self.points[a as usize * d + best_dim];
            let vb = self.points[b as usize * d + best_dim];
            va.total_cmp(&vb).then(a.cmp(&b))
        });
        split_dims[mid] = best_dim as u8;
        let (left, rest) = order.split_at_mut(mid);
        let (left_dims, rest_dims) = split_dims.split_at_mut(mid);
        self.build_range(left, left_dims);
        self.build_range(&mut rest[1..], &mut rest_dims[1..]);
    }

    fn consider(&self, i: usize, query: &[f64], best: &mut (f64, usize)) {
        let dist: f64 = self
            .point(i)
            .iter()
            .zip(query)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        // Ties: the most recent point wins (see the module docs).
        if dist < best.0 || (dist == best.0 && (i > best.1 || best.1 == usize::MAX)) {
            *best = (dist, i);
        }
    }

    fn search(
        &self,
        tree: &StaticTree,
        lo: usize,
        hi: usize,
        query: &[f64],
        best: &mut (f64, usize),
    ) {
        let len = hi - lo;
        if len <= LEAF_SIZE {
            for &i in &tree.order[lo..hi] {
                self.consider(i as usize, query, best);
            }
            return;
        }
        let mid = lo + len / 2;
        let pivot = tree.order[mid] as usize;
        let dim = tree.split_dims[mid] as usize;
        self.consider(pivot, query, best);
        let delta = query[dim] - self.points[pivot * self.dim + dim];
        let (near, far) = if delta <= 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.search(tree, near.0, near.1, query, best);
        // An equally distant point on the far side can still win the tie if it is newer.
        let tree_is_newer = tree.start + tree.order.len() > best.1 || best.1 == usize::MAX;
        if delta * delta < best.0 || (delta * delta == best.0 && tree_is_newer) {
            self.search(tree, far.0, far.1, query, best);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn brute(points: &[Vec<f64>], q: &[f64]) -> usize {
        let mut best = (f64::INFINITY, 0);
        for (i, p) in points.iter().enumerate() {
            let d: f64 = p.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
            // `<=`: the most recent of equally distant points.
            if d <= best.0 {
                best = (d, i);
            }
        }
        best.1
    }

    #[test]
    fn matches_brute_force_including_ties_and_rebuild() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        let mut h = NearestHistory::new(2);
        let mut pts = Vec::new();
        for i in 0..700 {
            // Coarse grid values create many exact ties and duplicates.
            let p = vec![
                (rng.random_range(0..20) as f64) * 0.5,
                (rng.random_range(0..20) as f64) * 0.5,
            ];
            h.insert(&p, i as f64);
            pts.push(p);
            let q = [
                rng.random::<f64>() * 10.0,
                (rng.random_range(0..40) as f64) * 0.25,
            ];
            assert_eq!(h.nearest(&q).unwrap().0, brute(&pts, &q));
        }
        let mut restored: NearestHistory =
            serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        restored.rebuild_index();
        for _ in 0..200 {
            let q = [rng.random::<f64>() * 10.0, rng.random::<f64>() * 10.0];
            assert_eq!(restored.nearest(&q), h.nearest(&q));
        }
        assert_eq!(restored.trees.len(), h.trees.len());
        assert!(NearestHistory::new(3).nearest(&[0.0; 3]).is_none());
    }

    #[test]
    fn exact_duplicates_resolve_to_the_latest_visit() {
        // A corner task replayed with a growing return, as a clipped GMM sample would be: the
        // neighbour of the next replay must be the latest visit (return 0.5), not the first
        // (return 0.0), whatever tree layout the 40 points ended up in.
        let mut h = NearestHistory::new(2);
        h.insert(&[0.5, 0.5], 9.0);
        for visit in 0..40 {
            h.insert(&[0.0, 0.0], f64::from(visit) / 78.0);
            h.insert(&[0.3, 0.2 + f64::from(visit) * 0.01], 9.0);
        }
        let (index, value) = h.nearest(&[0.0, 0.0]).unwrap();
        assert_eq!(index, 79);
        assert_eq!(value, 39.0 / 78.0);
    }
}
