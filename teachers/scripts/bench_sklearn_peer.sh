#!/usr/bin/env bash
# ALP-GMM refit benchmark against scikit-learn, same data, same run.
# 1. builds and runs the Rust bench (writes the (task, ALP) windows to $TEACHGYM_BENCH_DATA),
# 2. installs scikit-learn + numpy in a throwaway venv under /tmp,
# 3. times GaussianMixture(full, k = 2..9, sklearn defaults, AIC selection) on the same windows.
# Usage: teachers/scripts/bench_sklearn_peer.sh   (from anywhere; needs python3 and network to PyPI)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export TEACHGYM_BENCH_DATA="${TEACHGYM_BENCH_DATA:-/tmp/teachgym_refit_windows.json}"
venv="${SKLEARN_VENV:-/tmp/teachgym-sklearn-venv}"

(cd "$here" && cargo bench -p teachgym-teachers --bench refit)

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet scikit-learn numpy
fi

"$venv/bin/python" - <<'PY'
import json, os, time, warnings
import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

warnings.filterwarnings("ignore")  # ConvergenceWarning on degenerate windows is expected
windows = json.load(open(os.environ["TEACHGYM_BENCH_DATA"]))
print(f"\nsklearn {sklearn.__version__} GaussianMixture(full, k = 2..9, defaults, random_state=0), median of 21")
for w in windows:
    x = np.asarray(w["data"]).reshape(-1, w["dim"])
    def refit():
        best = None
        for k in range(2, 10):
            g = GaussianMixture(n_components=k, covariance_type="full", random_state=0).fit(x)
            aic = g.aic(x)
            if best is None or aic < best[0]:
                best = (aic, k)
        return best[1]
    times = []
    for _ in range(21):
        t0 = time.perf_counter()
        k = refit()
        times.append(time.perf_counter() - t0)
    print(f"sklearn_refit {w['name']} n={len(x)} time_ms={np.median(times) * 1e3:.3f} chosen_k={k}")
PY
