"""What the bad-input tests' cases are called on, built on first use and shared by their files."""

from __future__ import annotations

import re
from functools import cached_property

import pandas as pd
import torch
from diffusers import EulerDiscreteScheduler

import helpers
from helpers import black_images, pipelines
from helpers.models import shipped_configs
from helpers.research import convergence
from helpers.research import mixture as mx
from helpers.toy import profile as toy_profile
from helpers.toy import world
from helpers.toy import wuerstchen as toy_wuerstchen


class Env:
    """Tiny pipelines, the toy models and small objects; each built when a case first asks."""

    @cached_property
    def ctx(self):
        return helpers.setup(profile="tiny", device="cpu")

    @cached_property
    def sd(self):
        return pipelines.load("sd15", self.ctx)

    @cached_property
    def unclip(self):
        return pipelines.load("unclip", self.ctx)

    @cached_property
    def toy(self):
        return toy_profile.load("sd15", self.ctx)

    @cached_property
    def toy_wuerstchen(self):
        return toy_wuerstchen.load(self.ctx)

    @cached_property
    def checker(self):
        return black_images.tiny_safety_checker(image_size=32, width=16, seed=0)

    @cached_property
    def euler(self):
        return EulerDiscreteScheduler.from_config(dict(shipped_configs.SD15_SCHEDULER_CONFIG))

    @cached_property
    def mixture(self):
        return mx.GaussianMixture.random(dim=4, components=3, seed=0)

    @cached_property
    def z(self):
        return torch.randn(2, 4, generator=torch.Generator().manual_seed(0))

    @cached_property
    def conv_case(self):
        return convergence.Case("euler", lambda: EulerDiscreteScheduler())

    @cached_property
    def world_images(self):
        return world.make_dataset(2, seed=0)[0]

    @cached_property
    def results(self):
        return pd.DataFrame({"label": ["a"] * 3, "steps": [5, 10, 20], "nfe": [5, 10, 20],
                             "median_error": [0.2, 0.1, 0.05], "stochastic": False})  # fmt: skip


def names_argument(message: str, argument: str) -> bool:
    """Whether `message` names the argument `argument` where the helpers' messages put a name: first
    (`n must be ...`, `a: cannot ...`), after the function's name (`slerp(): t must ...`), or as
    `name=value`. For a name of one or two letters a bare `in` proves nothing ("n" is in almost every
    message, "a " in "got a float"), so those are looked for only there."""
    name = re.escape(argument.strip(" :="))
    return bool(re.search(rf"^(?:[\w.]+\(\): )?{name}(?![\w(])|(?<![\w.]){name}=", message))


def assert_names_argument(message: str, argument: str) -> None:
    """The message names `argument`: `names_argument` for a name of one or two letters, else the
    name anywhere in it."""
    if len(argument.strip(" :=")) <= 2:
        assert names_argument(message, argument), f"the message does not name the argument {argument.strip(' :=')!r}: {message}"
    else:
        assert argument in message, f"the message does not name {argument!r}: {message}"
