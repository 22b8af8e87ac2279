# Peer measurement for BENCHMARKS.md §3: ALP-GMM with teachDeepRL semantics (sklearn GaussianMixture,
# scipy cKDTree buffered 1-NN rebuilt every 500 points) on teachDeepRL's 10 x 10 toy grid; our own restatement.
# Usage (venv of scripts/bench_sklearn_peer.sh; one BLAS thread or it crawls):
#   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python alp_gmm_reference_peer.py tdrl|tma 0,1,2,3,4,5,6,7 20000
import sys, json, time
import numpy as np
import scipy.spatial
from sklearn.mixture import GaussianMixture

class Toy:
    def __init__(self, n=10):
        self.n = n; self.c = np.zeros((n, n))
    def score(self, strict=True):
        return int(((self.c > 75) if strict else (self.c >= 75)).sum())
    def play(self, p):
        i = min(int(p[0] * self.n), self.n - 1); j = min(int(p[1] * self.n), self.n - 1)
        if i == 0 and j == 0:
            self.c[i, j] = min(self.c[i, j] + 1, 100)
        else:
            for a in (i - 1, i):
                for b in (j - 1, j):
                    if (a, b) == (i, j) or a < 0 or b < 0: continue
                    if self.c[a, b] >= 75:
                        self.c[i, j] = min(self.c[i, j] + 1, 100); break
                else: continue
                break
        return self.c[i, j] / 100.0

class BufKnn:
    def __init__(self, buf=500):
        self.main_t, self.main_r, self.buf_t, self.buf_r = [], [], [], []
        self.bs = buf; self.tree = None; self.btree = None
    def __len__(self): return len(self.main_t) + len(self.buf_t)
    def add(self, task, r):
        if len(self.buf_t) < self.bs:
            self.buf_t.append(task); self.buf_r.append(r)
        else:
            self.main_t += self.buf_t; self.main_r += self.buf_r
            self.buf_t, self.buf_r = [task], [r]
            self.tree = scipy.spatial.cKDTree(self.main_t, compact_nodes=False, balanced_tree=False)
        self.btree = scipy.spatial.cKDTree(self.buf_t, compact_nodes=False, balanced_tree=False)
    def nn_reward(self, task):
        if self.main_t:
            d, i = self.tree.query(task)
            bd, bi = self.btree.query(task)
            return self.main_r[i] if d <= bd else self.buf_r[bi]
        d, i = self.btree.query(task)
        return self.buf_r[i]

def run(seed, episodes, fit_rate, ks, rnd, strict):
    np.random.seed(seed)
    env = Toy(); knn = BufKnn(); rows = []; gmm = None; corner = 0
    gmms = [GaussianMixture(n_components=k, covariance_type='full', random_state=seed) for k in ks]
    for ep in range(episodes):
        if ep < fit_rate or np.random.random() < rnd:
            task = np.random.uniform(0, 1, 2).astype(np.float32)
        else:
            alps = [m[-1] for m in gmm.means_]
            if np.sum(alps) == 0: idx = np.random.randint(len(alps))
            else: idx = np.where(np.random.multinomial(1, np.array(alps) / np.sum(alps)) == 1)[0][0]
            task = np.random.multivariate_normal(gmm.means_[idx], gmm.covariances_[idx])[:-1]
            task = np.clip(task, 0, 1).astype(np.float32)
        if all(v in (0.0, 1.0) for v in task): corner += 1
        r = env.play(task)
        alp = abs(r - knn.nn_reward(task)) if len(knn) > 5 else 0.0
        knn.add(task, r)
        rows.append(task.tolist() + [alp])
        n = ep + 1
        if n >= fit_rate and n % fit_rate == 0:
            x = np.array(rows[-fit_rate:])
            with np.errstate(under='ignore'):
                fitted = [g.fit(x) for g in gmms]
                aics = [g.aic(x) for g in fitted]
            gmm = fitted[int(np.argmin(aics))]
    return env.score(strict), env.score(not strict), corner / episodes

if __name__ == '__main__':
    preset, seeds, episodes = sys.argv[1], [int(s) for s in sys.argv[2].split(',')], int(sys.argv[3])
    fit_rate, ks, rnd = {'tdrl': (250, range(2, 11), 0.2), 'tma': (150, range(2, 10), 0.05)}[preset]
    for s in seeds:
        t = time.time()
        strict, geq, corner = run(s, episodes, fit_rate, ks, rnd, True)
        print(json.dumps({'preset': preset, 'seed': s, 'mastered_gt75': strict, 'mastered_ge75': geq, 'corner_frac': round(corner, 4), 'secs': round(time.time() - t, 1)}), flush=True)
