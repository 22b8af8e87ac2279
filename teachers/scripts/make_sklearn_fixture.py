"""Writes tests/fixtures/sklearn_gmm.json: data and scikit-learn GaussianMixture results
(full covariance, kmeans init, defaults) that tests/gmm_vs_sklearn.rs compares against.

Usage: python scripts/make_sklearn_fixture.py   (needs numpy and scikit-learn)
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

rng = np.random.RandomState(1234)
cases = []
# Dimension-3 data shaped like ALP-GMM's (task in [0,3]x[0,6], ALP), 150 and 250 points.
for n, centres, spread in [
    (150, [[0.5, 1.0, 0.1], [2.5, 5.0, 0.8], [1.5, 3.0, 0.4]], 0.15),
    (250, [[0.3, 0.5, 0.0], [2.7, 5.5, 1.0], [0.5, 5.0, 0.5], [2.5, 1.0, 0.2]], 0.2),
]:
    labels = np.arange(n) % len(centres)
    data = np.array(centres)[labels] + spread * rng.randn(n, 3)
    results = []
    for k in range(1, 10):
        g = GaussianMixture(n_components=k, covariance_type="full", random_state=0).fit(data)
        # The labels GaussianMixture(random_state=0) starts EM from, so the Rust test can run
        # EM from the very same initialisation.
        init = KMeans(n_clusters=k, n_init=1, random_state=0).fit(data).labels_
        results.append({
            "k": k,
            "mean_log_likelihood": float(g.score(data)),
            "aic": float(g.aic(data)),
            "n_iter": int(g.n_iter_),
            "kmeans_labels": init.tolist(),
        })
    cases.append({"true_k": len(centres), "data": data.ravel().tolist(), "results": results})

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sklearn_gmm.json"
out.write_text(json.dumps({"sklearn_version": sklearn.__version__, "dim": 3, "cases": cases}, indent=1))
print("wrote", out)
