"""The Python/torch peer of GoalGAN's training cost: the same least-squares GAN as
`teachgym_teachers::GoalGan` (and TeachMyAgent's port of rllab's `StateGAN`) at the benchmark
sizes, trained the same way, so that `teachers/examples/goal_gan_cost.rs` (its "build
(pretraining) ms" column: 500 outer iterations) can be set beside it in the same run.

- Generator: noise of the goal's dimension -> [256, 256] ReLU -> tanh; discriminator: goal ->
  [128, 128] leaky ReLU (0.1) -> one linear output; Glorot-uniform weights, zero biases.
- One outer iteration = one discriminator step on `batch` labelled goals (targets 2y - 1) plus
  `batch` generated goals (target -1), then one generator step towards D(G(z)) = 1 on the
  same noise; RMSProp lr 1e-3, rho 0.9 for both.

Prints one JSON line: milliseconds per `iters` outer iterations (median of `repeats`), torch's
thread count and version. `python scripts/goal_gan_peer.py [--iters 500] [--dim 2]`
(needs torch: e.g. the SB3 venv of scripts/bench_train.sh).
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def mlp(sizes: list[int], hidden: type[nn.Module], out: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(a, b)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(hidden())
    if out is not None:
        layers.append(out)
    return nn.Sequential(*layers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=500, help="outer iterations per training")
    parser.add_argument("--dim", type=int, default=2, help="goal dimension (the toy's: 2)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--goals", type=int, default=1000, help="labelled goals (pretraining: 1000)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    generator = mlp([args.dim, 256, 256, args.dim], nn.ReLU, nn.Tanh())
    discriminator = mlp([args.dim, 128, 128, 1], lambda: nn.LeakyReLU(0.1), None)
    g_opt = torch.optim.RMSprop(generator.parameters(), lr=1e-3, alpha=0.9, eps=1e-10)
    d_opt = torch.optim.RMSprop(discriminator.parameters(), lr=1e-3, alpha=0.9, eps=1e-10)
    goals = torch.rand(args.goals, args.dim) - 0.5
    labels = torch.ones(args.goals, 1)

    def train() -> None:
        start = 0
        for _ in range(args.iters):
            index = torch.arange(start, start + args.batch) % args.goals
            start = (start + args.batch) % args.goals
            z = torch.randn(args.batch, args.dim)
            generated = generator(z)
            x = torch.cat([goals[index], generated.detach()])
            y = torch.cat([2 * labels[index] - 1, -torch.ones(args.batch, 1)])
            d_loss = ((y - discriminator(x)) ** 2).mean()
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = ((discriminator(generator(z)) - 1) ** 2).mean()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()

    train()  # warm-up: first-call costs of torch
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        train()
        times.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({
        "peer": "torch",
        "outer_iters": args.iters,
        "batch": args.batch,
        "dim": args.dim,
        "ms_per_training": round(statistics.median(times), 1),
        "ms_all": [round(t, 1) for t in times],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
