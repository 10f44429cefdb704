"""helpers.toy.preference and `python -m helpers.toy preference`: the three losses on hand-made
tensors (a flipped sign or a dropped reference term fails here), the committed runs in
models/toy-sd-preference are what the script makes (their first steps re-run here), and bad input
is refused."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.toy import preference
from helpers.toy.__main__ import main as toy_main

RUNS = Path(__file__).resolve().parents[1] / "models" / "toy-sd-preference"
FIRST_STEPS = 4
# as tests/test_toy_finetune.py: another CPU may sum floats in another order, which moves a loss
# after a few AdamW steps by far less than 1e-3 of itself; a changed recipe (pairs, noise, the
# loss's sign or reference) moves it by more than that from the second step on
LOSS_RTOL = 1e-3


def _committed(name: str) -> dict:
    return json.loads((RUNS / name / "preference.json").read_text())


# ----- the losses, on hand-made per-pair errors -----

def test_dpo_loss_is_log2_where_policy_equals_reference():
    errors = torch.tensor([0.3, 0.5, 0.9])
    loss, logits = preference.dpo_loss(errors, errors + 0.1, errors, errors + 0.1, beta=2500.0)
    assert torch.count_nonzero(logits) == 0  # exact: the same tensors subtracted
    assert loss.item() == pytest.approx(np.log(2), rel=1e-6)


def test_dpo_loss_falls_when_the_policy_fits_the_winner_better_than_the_reference():
    ref_w, ref_l = torch.tensor([0.5]), torch.tensor([0.5])
    better, _ = preference.dpo_loss(torch.tensor([0.4]), torch.tensor([0.5]), ref_w, ref_l, beta=10.0)
    worse, _ = preference.dpo_loss(torch.tensor([0.6]), torch.tensor([0.5]), ref_w, ref_l, beta=10.0)
    # -logsigmoid(10 * 0.1) and -logsigmoid(-10 * 0.1)
    assert better.item() == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-6)
    assert worse.item() == pytest.approx(np.log1p(np.exp(1.0)), rel=1e-6)


def test_dpo_loss_measures_the_policy_against_the_reference_not_alone():
    # the policy fits the winner better than the loser, but by less than the reference did:
    # a loss without the reference term would reward this pair, DPO penalises it
    model_w, model_l = torch.tensor([0.40]), torch.tensor([0.45])
    ref_w, ref_l = torch.tensor([0.30]), torch.tensor([0.50])
    loss, logits = preference.dpo_loss(model_w, model_l, ref_w, ref_l, beta=20.0)
    assert logits.item() == pytest.approx(-0.15, abs=1e-6)
    assert loss.item() > np.log(2)


def test_dpo_gradient_lowers_the_winners_error_and_raises_the_losers():
    model_w = torch.tensor([0.5], requires_grad=True)
    model_l = torch.tensor([0.5], requires_grad=True)
    loss, _ = preference.dpo_loss(model_w, model_l, torch.tensor([0.5]), torch.tensor([0.5]), beta=4.0)
    loss.backward()
    assert model_w.grad.item() == pytest.approx(2.0)  # beta * sigmoid(0) = 4 * 0.5
    assert model_l.grad.item() == pytest.approx(-2.0)


def test_beta_scales_the_dpo_margin():
    args = (torch.tensor([0.4]), torch.tensor([0.5]), torch.tensor([0.5]), torch.tensor([0.5]))
    small, _ = preference.dpo_loss(*args, beta=1.0)
    large, _ = preference.dpo_loss(*args, beta=100.0)
    assert large.item() < small.item() < np.log(2)


def test_orpo_loss_is_the_projects_form():
    model_w, model_l = torch.tensor([0.2, 0.6]), torch.tensor([0.5, 0.3])
    loss, log_odds = preference.orpo_loss(model_w, model_l, beta=0.1)
    expected = model_w.mean() - 0.1 * torch.nn.functional.logsigmoid(model_w - model_l).mean()
    assert torch.equal(log_odds, model_w - model_l)  # exact: the same subtraction
    assert loss.item() == pytest.approx(expected.item(), rel=1e-7)


def test_orpo_gradient_as_the_project_writes_it_lowers_the_losers_error_too():
    # logsigmoid(model_w - model_l) enters with a minus sign: its gradient on the loser's error is
    # +beta * sigmoid(model_l - model_w) > 0, so a descent step lowers the loser's error as well
    model_w = torch.tensor([0.5], requires_grad=True)
    model_l = torch.tensor([0.5], requires_grad=True)
    loss, _ = preference.orpo_loss(model_w, model_l, beta=0.1)
    loss.backward()
    assert model_w.grad.item() == pytest.approx(1 - 0.1 * 0.5)
    assert model_l.grad.item() == pytest.approx(0.1 * 0.5)


def test_orpo_gradient_signs_hold_for_any_errors():
    # per pair (before the mean): d/d model_l = beta * sigmoid(model_l - model_w) > 0 and
    # d/d model_w = 1 - that >= 1 - beta, whatever the two errors are
    g = torch.Generator().manual_seed(0)
    model_w = (torch.rand(256, generator=g) * 2).requires_grad_()
    model_l = (torch.rand(256, generator=g) * 2).requires_grad_()
    loss, _ = preference.orpo_loss(model_w, model_l, beta=0.1)
    loss.backward()
    assert bool((model_l.grad > 0).all())
    assert bool((model_w.grad * 256 >= 0.9 - 1e-6).all())


def test_sft_loss_ignores_the_loser():
    assert preference.sft_loss(torch.tensor([0.2, 0.4])).item() == pytest.approx(0.3)


def test_implicit_accuracy_counts_ties_half():
    assert preference.implicit_accuracy(torch.tensor([1.0, -1.0, 0.0, 2.0])) == pytest.approx(0.625)


def test_diversity_is_zero_for_identical_seeds_and_positive_otherwise():
    same = np.zeros((4, 32, 32, 3))
    assert preference.diversity(same, 2) == 0  # exact: identical images, distance 0
    rng = np.random.default_rng(0)
    assert preference.diversity(rng.random((4, 32, 32, 3)), 2) > 0.3


@pytest.mark.parametrize("call, error, match", [
    (lambda: preference.dpo_loss(torch.zeros(2), torch.zeros(3), torch.zeros(2), torch.zeros(2), 1.0),
     ValueError, "one shape"),
    (lambda: preference.dpo_loss(torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2), 1.0),
     TypeError, "1-d tensors"),
    (lambda: preference.dpo_loss(torch.zeros(2), torch.zeros(2), torch.zeros(2), torch.zeros(2), 0.0),
     ValueError, "beta"),
    (lambda: preference.orpo_loss([0.1], torch.zeros(1), 0.1), TypeError, "1-d tensors"),
    (lambda: preference.diversity(np.zeros((3, 32, 32, 3)), 2), ValueError, "whole blocks"),
    (lambda: preference.diversity(np.zeros((2, 32, 32, 3)), 1), ValueError, "per_caption"),
])
def test_losses_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----- the data: captions split, pairs -----

def test_held_out_captions_are_never_paired():
    assert len(preference.HELD_OUT_CAPTIONS) == 12 and len(preference.TRAIN_CAPTIONS) == 48
    assert not set(preference.HELD_OUT_CAPTIONS) & set(preference.TRAIN_CAPTIONS)
    pairs = preference.load_pairs()
    assert set(pairs["captions"]) == set(preference.TRAIN_CAPTIONS)


def test_committed_pairs_are_winner_over_loser_of_one_caption():
    pairs = preference.load_pairs()
    w, l = pairs["winner"], pairs["loser"]
    assert len(w) == len(l) > 0
    assert (pairs["right"][w] > pairs["right"][l]).all()
    assert [pairs["captions"][i] for i in w] == [pairs["captions"][i] for i in l]
    stats = json.loads((RUNS / "baseline.json").read_text())["pairs"]
    assert stats["pairs"] == len(w)
    assert stats["pairs"] + stats["ties_dropped"] == stats["comparisons"]


def test_make_pairs_refuses_bad_input():
    with pytest.raises(ValueError, match="world's 60 captions"):
        preference.make_pairs(None, ["a purple star"])
    with pytest.raises(ValueError, match="seeds_per_caption"):
        preference.make_pairs(None, ["a red circle on the left"], seeds_per_caption=1)


# ----- the committed runs -----

@pytest.mark.parametrize("name", ["dpo-b2500-seed0", "orpo-seed0", "sft-seed0"])
def test_first_steps_match_the_committed_curve(name):
    run = _committed(name)
    torch.set_num_threads(1)
    summary = preference.preference(run["method"], seed=run["seed"], beta=run["beta"], steps=FIRST_STEPS,
                                    batch=run["batch"], rank=run["rank"], lr=run["lr"], threads=1,
                                    evaluate_runs=False)
    assert summary["trainable_parameters"] == run["trainable_parameters"]
    assert FIRST_STEPS < run["warmup"]  # the warm-up keeps these steps' learning rate independent of the length
    assert summary["losses"] == pytest.approx(run["losses"][:FIRST_STEPS], rel=LOSS_RTOL)


def test_committed_results_fit_the_budget():
    size = sum(p.stat().st_size for p in RUNS.rglob("*") if p.is_file())
    assert size < 4_000_000


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(method="ppo"), ValueError, "method must be one of dpo, orpo, sft"),
    (dict(method="sft", beta=1.0), ValueError, "beta is a DPO/ORPO setting"),
    (dict(method="dpo", beta=-1.0), ValueError, "beta"),
    (dict(method="dpo", steps=0), ValueError, "steps"),
    (dict(method="orpo", lr=0.0), ValueError, "lr"),
    (dict(method="dpo", pairs_file="/nonexistent/pairs.npz"), (ValueError, FileNotFoundError), "pairs_file"),
])
def test_preference_refuses_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        preference.preference(**kwargs)


@pytest.mark.parametrize("argv, match", [
    (["preference", "--method", "sft", "--beta", "1", "--out", "X"], "--beta is a DPO/ORPO setting"),
    (["preference", "--method", "baseline", "--steps", "3", "--out", "X"], "trains nothing"),
    (["preference", "--method", "kto", "--out", "X"], "invalid choice"),
])
def test_cli_refuses_bad_input(argv, match, capsys):
    with pytest.raises(SystemExit) as exit_:
        toy_main(argv)
    assert exit_.value.code == 2
    assert match in capsys.readouterr().err


# ----- what the chapter reads from peft's enable_adapters (tuners_utils.py#L2008-L2010, L2060-L2067) -----

def _tiny_unet(adapters=("a", "b"), init="gaussian"):
    """A tiny UNet with one rank-2 LoRA per name on its attention projections (peft's `init`)."""
    from diffusers import UNet2DConditionModel
    from peft import LoraConfig

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, cross_attention_dim=8,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), norm_num_groups=4, attention_head_dim=2)
    unet.requires_grad_(False)
    for name in adapters:
        unet.add_adapter(LoraConfig(r=2, lora_alpha=2, init_lora_weights=init,
                                    target_modules=["to_q", "to_k", "to_v", "to_out.0"]), adapter_name=name)
    return unet


def _flags(unet, name):
    return {p.requires_grad for n, p in unet.named_parameters() if f".{name}." in n}


def test_enable_adapters_makes_the_active_adapter_trainable_not_the_previous_flags():
    unet = _tiny_unet()
    unet.set_adapters(["a"])
    unet.disable_adapters()
    unet.enable_adapters()
    assert _flags(unet, "a") == {True} and _flags(unet, "b") == {False}
    for n, p in unet.named_parameters():
        if ".a." in n:
            p.requires_grad_(False)  # frozen by hand
    unet.enable_adapters()
    assert _flags(unet, "a") == {True}


def test_enable_adapters_keeps_a_variants_declared_frozen_weights_frozen():
    # the chapter's "a plain LoRA": peft's set_adapter re-freezes what a LoRA variant declares
    # frozen (tuners_utils.py#L2067); MiCA declares lora_B (lora/variants.py#L1276)
    unet = _tiny_unet(adapters=("default",), init="mica")

    def flags(part):
        return {p.requires_grad for n, p in unet.named_parameters() if part in n}

    unet.disable_adapters()
    unet.enable_adapters()
    assert flags("lora_A") == {True} and flags("lora_B") == {False}


def test_backward_with_the_adapters_off_leaves_no_lora_gradient():
    unet = _tiny_unet()
    unet.set_adapters(["a"])
    out = unet(torch.randn(1, 4, 8, 8), torch.tensor([10]), encoder_hidden_states=torch.randn(1, 3, 8)).sample
    unet.disable_adapters()
    out.pow(2).mean().backward()
    assert all(p.grad is None for n, p in unet.named_parameters() if "lora_" in n)


def test_committed_dpo_implicit_accuracy_is_one_after_the_first_update():
    # the chapter says the margin is positive for every pair after DPO's first update
    for beta in (250, 2500, 25000):
        for seed in (0, 1):
            run = _committed(f"dpo-b{beta}-seed{seed}")
            assert run["implicit_accuracy"][0] == 0.5  # exact: the untuned step, every pair a tie
            assert run["implicit_accuracy"][1] == 1.0  # exact: 8 of 8 pairs
            assert run["implicit_accuracy_curve"][0] > 0.9


def test_committed_policy_accuracy_falls_for_orpo_and_sft_below_dpo():
    # the chapter: ORPO and SFT lower the losers' errors relative to the winners' on their
    # pairs (the policy's own comparison falls), and end below DPO's runs of the same seed
    for seed in (0, 1):
        dpo_last = min(_committed(f"dpo-b{beta}-seed{seed}")["policy_accuracy_curve"][-1]
                       for beta in (250, 2500, 25000))
        for method in ("orpo", "sft"):
            curve = _committed(f"{method}-seed{seed}")["policy_accuracy_curve"]
            assert curve[-1] < curve[0] and curve[-1] < dpo_last


def test_committed_adapters_differ_from_each_other():
    # the chapter identifies the reloaded adapter by its weights, not only by its figure (two
    # runs' held-out figures are one sample apart): no two committed runs share a weight file
    from safetensors.torch import load_file

    names = sorted(p.parent.name for p in RUNS.glob("*/pytorch_lora_weights.safetensors"))
    assert len(names) == 10, names
    weights = {n: load_file(RUNS / n / "pytorch_lora_weights.safetensors") for n in names}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert weights[a].keys() == weights[b].keys(), (a, b)
            assert not all(torch.equal(weights[a][k], weights[b][k]) for k in weights[a]), (a, b)
