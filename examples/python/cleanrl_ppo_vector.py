"""Single-file PPO (CleanRL style) on teachgym's native vector env, with an ALP-GMM curriculum.

One `envs.step` call steps every Stump Tracks env in Rust over the machine's cores. The teacher is
the vector env's task source: it picks the task of every autoreset and learns from every
finished episode. Autoreset is SAME_STEP, so `info["final_obs"]` gives the value bootstrap of
truncated episodes.

    pip install ./python torch
    python examples/python/cleanrl_ppo_vector.py --total-timesteps 1000000 --num-envs 16
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions.normal import Normal

import teachgym
from teachgym.teachers import ALPGMM


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-id", default="teachgym/StumpTracks-v0")
    p.add_argument("--total-timesteps", type=int, default=1_000_000)
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--num-steps", type=int, default=128, help="steps per env per rollout")
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--num-minibatches", type=int, default=32)
    p.add_argument("--update-epochs", type=int, default=10)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--ent-coef", type=float, default=0.0)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--max-episode-steps", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


class RunningMeanStd:
    """Running mean and variance of observations (parallel-variance update)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.mean, self.var, self.count = np.zeros(shape), np.ones(shape), 1e-4

    def update(self, x: np.ndarray) -> None:
        b_mean, b_var, b_count = x.mean(0), x.var(0), x.shape[0]
        delta, total = b_mean - self.mean, self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var, self.count = m2 / total, total

    def normalize(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / np.sqrt(self.var + 1e-8), -10, 10).astype(np.float32)


def layer(i: int, o: int, std: float = np.sqrt(2)) -> nn.Linear:
    lin = nn.Linear(i, o)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, 0.0)
    return lin


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
        self.actor_mean = nn.Sequential(
            layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, act_dim, 0.01)
        )
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def act(self, x: torch.Tensor, action: torch.Tensor | None = None):
        mean = self.actor_mean(x)
        dist = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(1), dist.entropy().sum(1), self.critic(x)


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # leave the cores to the env threads

    probe = gym.make(args.env_id).unwrapped
    teacher = ALPGMM(probe.task_space, seed=args.seed)
    envs = gym.make_vec(
        args.env_id,
        num_envs=args.num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode="SameStep",
        teacher=teacher,
        max_episode_steps=args.max_episode_steps,
    )
    n, T = args.num_envs, args.num_steps
    obs_dim, act_dim = envs.single_observation_space.shape[0], envs.single_action_space.shape[0]
    agent = Agent(obs_dim, act_dim)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    rms = RunningMeanStd((obs_dim,))

    obs_buf = torch.zeros((T, n, obs_dim))
    act_buf = torch.zeros((T, n, act_dim))
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros((T, n)) for _ in range(4))

    raw_obs, _ = envs.reset(seed=args.seed)
    rms.update(raw_obs)
    next_obs, next_done = torch.tensor(rms.normalize(raw_obs)), torch.zeros(n)
    batch = n * T
    minibatch = batch // args.num_minibatches
    iterations = args.total_timesteps // batch
    global_step, start, returns = 0, time.time(), []

    for iteration in range(1, iterations + 1):
        frac = 1.0 - (iteration - 1.0) / iterations
        optimizer.param_groups[0]["lr"] = frac * args.learning_rate
        for t in range(T):
            global_step += n
            obs_buf[t], done_buf[t] = next_obs, next_done
            with torch.no_grad():
                action, logp, _, value = agent.act(next_obs)
            val_buf[t], act_buf[t], logp_buf[t] = value.flatten(), action, logp
            raw_obs, reward, terminated, truncated, info = envs.step(action.numpy())
            reward = reward.copy()
            if "final_obs" in info:
                # Truncated episodes bootstrap from the value of their real last observation.
                for i in np.flatnonzero(info["_final_obs"] & truncated & ~terminated):
                    final = torch.tensor(rms.normalize(info["final_obs"][i][None]))
                    with torch.no_grad():
                        reward[i] += args.gamma * agent.value(final).item()
                ended = info["final_info"]["_episode_return"]
                returns.extend(info["final_info"]["episode_return"][ended].tolist())
            rms.update(raw_obs)
            rew_buf[t] = torch.tensor(reward, dtype=torch.float32)
            next_obs = torch.tensor(rms.normalize(raw_obs))
            next_done = torch.tensor(terminated | truncated, dtype=torch.float32)

        with torch.no_grad():  # GAE
            next_value = agent.value(next_obs).flatten()
            adv = torch.zeros_like(rew_buf)
            last = torch.zeros(n)
            for t in reversed(range(T)):
                not_done = 1.0 - (next_done if t == T - 1 else done_buf[t + 1])
                nv = next_value if t == T - 1 else val_buf[t + 1]
                delta = rew_buf[t] + args.gamma * nv * not_done - val_buf[t]
                last = delta + args.gamma * args.gae_lambda * not_done * last
                adv[t] = last
            ret = adv + val_buf

        b_obs, b_act = obs_buf.reshape(-1, obs_dim), act_buf.reshape(-1, act_dim)
        b_logp, b_adv, b_ret = logp_buf.reshape(-1), adv.reshape(-1), ret.reshape(-1)
        for _ in range(args.update_epochs):
            for mb in torch.randperm(batch).split(minibatch):
                _, logp, entropy, value = agent.act(b_obs[mb], b_act[mb])
                ratio = (logp - b_logp[mb]).exp()
                a = b_adv[mb]
                a = (a - a.mean()) / (a.std() + 1e-8)
                pg_loss = torch.max(-a * ratio, -a * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                v_loss = 0.5 * ((value.flatten() - b_ret[mb]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        recent = returns[-100:]
        print(
            f"iter {iteration:>4}/{iterations}  steps {global_step:>8}  "
            f"episodes {len(returns):>5}  mean return (last 100) {np.mean(recent) if recent else float('nan'):8.1f}  "
            f"steps/s {global_step / (time.time() - start):7.0f}",
            flush=True,
        )
    envs.close()


if __name__ == "__main__":
    main()
