"""Stable-Baselines3 PPO or SAC on gymnasium's BipedalWalker-v3 with the hyper-parameters of
the `teachgym train` run it is compared with: the peer in scripts/bench_train.sh.

- `--algo ppo`: teachgym's `clean_rl` PPO preset (8 envs, 2048-step rollouts, minibatch 64,
  10 epochs, 64-64 tanh, observation and reward normalisation).
- `--algo sac`: the zoo-style SAC of issue 14 (`clean_rl` SAC preset: 256-256 ReLU, batch 256,
  one gradient step per env step, one env, α tuned, buffer 1M).

Prints one JSON line: env steps per second of learning (env steps + updates), measured after a
warm-up (a rollout for PPO, the random start steps and a first updates for SAC) so that torch's
first-call costs and SAC's update-free start are not counted.
"""
import argparse
import json
import time

import gymnasium as gym
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=65_536)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--algo", choices=["ppo", "sac"], default="ppo")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.algo == "sac":
        return sac(args)

    rollout = 2048  # teachgym's PpoConfig::rollout_steps, over all env copies
    env = VecNormalize(
        make_vec_env("BipedalWalker-v3", n_envs=args.num_envs, seed=0),
        norm_obs=True,
        norm_reward=True,
        clip_obs=10.0,
        clip_reward=10.0,
        gamma=0.99,
    )
    model = PPO(
        "MlpPolicy",
        env,
        learning_rate=3e-4,
        n_steps=rollout // args.num_envs,
        batch_size=64,
        n_epochs=10,
        gamma=0.99,
        gae_lambda=0.95,
        clip_range=0.2,
        ent_coef=0.0,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh, log_std_init=0.0),
        seed=0,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=rollout)  # warm-up
    start = time.perf_counter()
    model.learn(total_timesteps=args.steps, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "peer": "sb3_ppo_bipedalwalker_v3",
        "steps": args.steps,
        "seconds": seconds,
        "steps_per_second": args.steps / seconds,
        "torch_threads": torch.get_num_threads(),
        "sb3": __import__("stable_baselines3").__version__,
        "torch": torch.__version__,
    }))


def sac(args: argparse.Namespace) -> None:
    warm_up = 2_000  # 1 000 random start steps, then 1 000 with updates
    env = make_vec_env("BipedalWalker-v3", n_envs=1, seed=0)
    model = SAC(
        "MlpPolicy",
        env,
        learning_rate=3e-4,
        buffer_size=1_000_000,
        learning_starts=1_000,
        batch_size=256,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto",
        policy_kwargs=dict(net_arch=[256, 256]),
        seed=0,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=warm_up)
    start = time.perf_counter()
    model.learn(total_timesteps=args.steps, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "peer": "sb3_sac_bipedalwalker_v3",
        "steps": args.steps,
        "seconds": seconds,
        "steps_per_second": args.steps / seconds,
        "torch_threads": torch.get_num_threads(),
        "sb3": __import__("stable_baselines3").__version__,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
