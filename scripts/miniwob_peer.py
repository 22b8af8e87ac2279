"""Steps/s of a MiniWoB++ task (real headless Chromium driven by Selenium), for the record next
to teachgym's web-form env. Random valid actions: CLICK_ELEMENT on a random visible element or
FOCUS_ELEMENT_AND_TYPE_FIELD with a random element and field (the liu18 preset, the
MiniWoB counterpart of QWeb's Click/Type), resets included as episodes end.

Usage: python scripts/miniwob_peer.py [task] [steps] [repeats]
Needs: pip install miniwob; Debian chromium + chromium-driver on PATH.
"""

import json
import sys
import time

import gymnasium
import miniwob
import numpy as np
from miniwob.action import ActionTypes

gymnasium.register_envs(miniwob)


def main() -> None:
    task = sys.argv[1] if len(sys.argv) > 1 else "login-user"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    env = gymnasium.make(f"miniwob/{task}-v1", action_space_config="liu18")
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    types = env.unwrapped.action_space_config.action_types
    results = []
    resets = []
    for _ in range(repeats):
        start = time.perf_counter()
        episodes = 0
        for _ in range(steps):
            elements = obs["dom_elements"]
            element = elements[int(rng.integers(len(elements)))] if elements else None
            kind = types[int(rng.integers(1, len(types)))]
            if element is None:
                action = env.unwrapped.create_action(ActionTypes.NONE)
            elif kind == ActionTypes.CLICK_ELEMENT:
                action = env.unwrapped.create_action(kind, ref=element["ref"])
            else:
                n_fields = max(1, len(obs["fields"]))
                action = env.unwrapped.create_action(
                    kind, ref=element["ref"], field=int(rng.integers(n_fields))
                )
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                t0 = time.perf_counter()
                obs, _ = env.reset()
                resets.append(time.perf_counter() - t0)
                episodes += 1
        results.append(steps / (time.perf_counter() - start))
    env.close()
    print(
        json.dumps(
            {
                "task": task,
                "steps_per_repeat": steps,
                "steps_per_second": [round(r, 1) for r in results],
                "steps_per_second_median": round(float(np.median(results)), 1),
                "reset_ms_median": round(1000 * float(np.median(resets)), 1) if resets else None,
                "episodes": len(resets),
            }
        )
    )


if __name__ == "__main__":
    main()
