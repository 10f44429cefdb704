"""helpers.toy.finetune and `python -m helpers.toy finetune`: the committed runs in models/toy-sd-lora
are what the script makes (their first steps re-run here), and bad input is refused."""

import json
from pathlib import Path

import pytest
import torch

from helpers.toy import finetune
from helpers.toy.__main__ import main as toy_main

RUNS = Path(__file__).resolve().parents[1] / "models" / "toy-sd-lora"
FIRST_STEPS = 5
# The first losses are a deterministic function of the committed weights, data and seed, but
# another CPU may sum floats in another order (vectorised kernels, thread splits); after five
# AdamW steps that moves a loss by far less than 1e-3 of itself, while a changed recipe (data,
# noise draws, learning rate, trainable set) moves it by more than 1e-2 from the second step on.
LOSS_RTOL = 1e-3


def _committed(name: str) -> dict:
    return json.loads((RUNS / name / "finetune.json").read_text())


@pytest.mark.parametrize("name", ["lora-r4-seed0", "full-seed0"])
def test_first_steps_match_the_committed_curve(name):
    run = _committed(name)
    torch.set_num_threads(1)
    summary = finetune.finetune(run["method"], rank=run["rank"], seed=run["seed"], steps=FIRST_STEPS,
                                batch=run["batch"], lr=run["lr"], checkpoints=(), threads=1, evaluate_runs=False)
    assert summary["trainable_parameters"] == run["trainable_parameters"]
    # the warm-up keeps the learning rate of these steps independent of the run's length
    assert FIRST_STEPS < run["warmup"]
    assert summary["losses"] == pytest.approx(run["losses"][:FIRST_STEPS], rel=LOSS_RTOL)


def test_committed_adapters_load_with_load_lora_weights():
    pipe = finetune.load_base()
    pipe.load_lora_weights(RUNS / "lora-r4-seed0", adapter_name="corner")
    assert pipe.get_active_adapters() == ["corner"]
    lora_keys = [n for n, _ in pipe.unet.named_parameters() if "lora_A.corner" in n]
    expected = sum(1 for n, m in pipe.unet.named_modules() if n.endswith(tuple("." + t for t in finetune.TARGET_MODULES)))
    assert len(lora_keys) == expected > 0  # every targeted projection got its adapter


def test_committed_runs_fit_the_budget():
    size = sum(p.stat().st_size for p in RUNS.rglob("*") if p.is_file())
    assert size < 2_000_000  # the adapters are small; the full fine-tune's weights are not committed
    assert not list(RUNS.glob("full-*/*.safetensors"))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(method="dreambooth"), ValueError, "method must be one of full, lora"),
    (dict(method="lora"), ValueError, "needs a rank"),
    (dict(method="full", rank=4), ValueError, "rank is a LoRA setting"),
    (dict(method="lora", rank=0), ValueError, "rank"),
    (dict(method="full", steps=0), ValueError, "steps"),
    (dict(method="full", lr=-1.0), ValueError, "lr"),
    (dict(method="full", steps=10, checkpoints=(0, 50)), ValueError, "checkpoints must lie in"),
    (dict(method="full", checkpoints="0,50"), TypeError, "checkpoints must be a sequence"),
    (dict(method="full", scales=(0.5,)), ValueError, "scales are LoRA scales"),
    (dict(method="lora", rank=4, scales=(1.5,)), ValueError, "scales"),
])
def test_finetune_refuses_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        finetune.finetune(**kwargs)


@pytest.mark.parametrize("argv, match", [
    (["finetune", "--method", "lora", "--out", "X"], "--method lora needs --rank"),
    (["finetune", "--method", "full", "--rank", "4", "--out", "X"], "--rank is a LoRA setting"),
    (["finetune", "--method", "lora", "--rank", "4", "--checkpoints", "0,ten", "--out", "X"], "--checkpoints must be"),
    (["finetune", "--method", "sgd", "--out", "X"], "invalid choice"),
])
def test_cli_refuses_bad_input(argv, match, capsys):
    with pytest.raises(SystemExit) as exit_:
        toy_main(argv)
    assert exit_.value.code == 2
    assert match in capsys.readouterr().err


def test_concept_validation_refuses_bad_input():
    with pytest.raises(ValueError, match="n must be"):
        finetune.concept_validation(None, n=0)
