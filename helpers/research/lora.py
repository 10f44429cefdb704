"""LoRA adapters for the LoRA chapter: seeded ones that change the output, Kohya-keyed copies of them,
and which scale each of a UNet's LoRA layers ends up with.

A LoRA straight from `LoraConfig` changes nothing (peft starts B at zero), so a chapter that asks what
loading, scaling or fusing does needs one whose B is not zero. `seeded_lora` makes it with peft's own
layers, on a copy of the model, and returns peft's state dict (what a training script passes to
`save_lora_weights`):

    unet_lora = seeded_lora(pipe.unet, rank=4, seed=1)
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=unet_lora)
    pipe.load_lora_weights(folder)

`kohya_keys` renames such a UNet state dict the way Kohya's scripts write theirs (A1111 reads them)
(`lora_unet_down_blocks_1_..._to_q.lora_down.weight`, with an `.alpha` per module), and
`scales_by_block` reads back the scale each LoRA layer got, grouped by block.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .. import validate

__all__ = ["ATTENTION_TARGETS", "CLIP_TARGETS", "kohya_keys", "scales_by_block", "seeded_lora"]

# the attention projections of a diffusers UNet, what diffusers' LoRA training scripts target
ATTENTION_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")
# the same projections in a transformers CLIP text encoder
CLIP_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")
_ADAPTER = "seeded"  # not "train" or "default": the name becomes a ModuleDict key, and nn.Module has .train


def seeded_lora(
    model: nn.Module, *, rank: int, seed: int, targets=ATTENTION_TARGETS, b_std: float = 0.2
) -> dict[str, torch.Tensor]:
    """The state dict of a rank-`rank` LoRA on the modules of `model` named by `targets`, in peft's
    keys (`get_peft_model_state_dict`: `<module>.lora_A.weight`, `<module>.lora_B.weight`).

    `lora_alpha` equals `rank`, so the adapter's scale is 1. A and B are drawn, module by module in
    name order, from one CPU generator seeded with `seed`: A from N(0, 1/rank²) (peft's "gaussian"
    initialisation), B from N(0, b_std²), so the LoRA changes the output; `b_std=0` gives peft's
    default start, B at zero. The adapter is added to a copy of `model` (`add_adapter` on a diffusers
    model, peft's `inject_adapter_in_model` on any other module, such as a transformers text
    encoder), so `model` is left as it was. The tensors are on `model`'s device, in its dtype.

    Refuses: a `model` that is not an nn.Module (TypeError); a `rank` that is not an int >= 1; an
    invalid `seed` (`validate.seed`); `targets` that are not a non-empty list/tuple of str; a
    `b_std` that is not a finite number >= 0; a target that names no module of `model` (ValueError,
    with the module names' endings it does have).
    """
    validate.instance("model", model, nn.Module, "a torch.nn.Module (e.g. pipe.unet or pipe.text_encoder)")
    rank = validate.positive_int("rank", rank)
    seed = validate.seed("seed", seed)
    targets = _targets(targets)
    b_std = validate.number("b_std", b_std, minimum=0.0)
    names = [name for name, _ in model.named_modules()]
    missing = [t for t in targets if not any(n == t or n.endswith(f".{t}") for n in names)]
    if missing:
        endings = sorted({n.rpartition(".")[2] for n in names if n})
        raise ValueError(f"targets: no module of {type(model).__name__} is named {missing}; "
                         f"its modules' names end with e.g. {endings[:12]}")

    from peft import LoraConfig, inject_adapter_in_model
    from peft.utils import get_peft_model_state_dict

    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=list(targets))
    with_lora = copy.deepcopy(model)
    if hasattr(with_lora, "add_adapter") and hasattr(with_lora, "unload_lora"):  # a diffusers ModelMixin
        with_lora.add_adapter(config, adapter_name=_ADAPTER)
    else:
        # transformers 5's own add_adapter asks for peft >= 0.22; peft's injection works with any
        inject_adapter_in_model(config, with_lora, adapter_name=_ADAPTER)
    generator = torch.Generator("cpu").manual_seed(seed)
    with torch.no_grad():
        for name, param in sorted(with_lora.named_parameters()):
            if f".lora_A.{_ADAPTER}." in name:
                std = 1.0 / rank
            elif f".lora_B.{_ADAPTER}." in name:
                std = b_std
            else:
                continue
            drawn = torch.randn(param.shape, generator=generator, dtype=torch.float32) * std
            param.copy_(drawn.to(device=param.device, dtype=param.dtype))
    state = get_peft_model_state_dict(with_lora, adapter_name=_ADAPTER)
    return {key: value.detach().clone() for key, value in state.items()}


def _targets(targets) -> tuple[str, ...]:
    if isinstance(targets, str) or not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list or tuple of module names such as {list(ATTENTION_TARGETS)}, "
                        f"got {targets!r}")
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise ValueError(f"targets must be a non-empty list of non-empty module names, got {targets!r}")
    return tuple(targets)


_SUFFIXES = {".lora_A.weight": "lora_down.weight", ".lora_B.weight": "lora_up.weight"}


def kohya_keys(state_dict: dict[str, torch.Tensor], alpha: float | None = None) -> dict[str, torch.Tensor]:
    """`state_dict`, a UNet LoRA in peft's keys (optionally prefixed "unet."), renamed as Kohya's
    scripts write SD 1.5 LoRAs (A1111 reads them): `down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight`
    becomes `lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight`
    (B: `lora_up.weight`), and each module gets `<name>.alpha`, a 0-d float32 tensor: `alpha`, or
    the module's rank (A's first dimension) when None, which keeps the scale alpha / rank at 1.

    The tensors are the same objects (not copies).

    Refuses: a `state_dict` that is not a non-empty dict of tensors (TypeError/ValueError); a key
    that does not end in ".lora_A.weight" or ".lora_B.weight", or that belongs to another component
    (a "text_encoder." prefix); a module with A but not B or B but not A; an `alpha` that is not a
    finite number > 0.
    """
    if not isinstance(state_dict, dict) or not state_dict:
        raise TypeError(f"state_dict must be a non-empty dict of tensors (peft's LoRA keys), got {type(state_dict).__name__}"
                        + (" (empty)" if isinstance(state_dict, dict) else ""))
    if alpha is not None:
        alpha = validate.number("alpha", alpha, minimum=0.0, exclusive_minimum=True)
    modules: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"state_dict[{key!r}] must be a tensor, got {type(value).__name__}")
        if not isinstance(key, str) or key.startswith("text_encoder"):
            raise ValueError(f"state_dict: {key!r} is not a UNet key; kohya_keys renames the UNet's LoRA only")
        suffix = next((s for s in _SUFFIXES if key.endswith(s)), None)
        if suffix is None:
            raise ValueError(f"state_dict: {key!r} does not end in {' or '.join(_SUFFIXES)} (peft's LoRA keys)")
        module = key[: -len(suffix)].removeprefix("unet.")
        modules.setdefault(module, {})[_SUFFIXES[suffix]] = value
    renamed = {}
    for module, weights in modules.items():
        if len(weights) != 2:
            raise ValueError(f"state_dict: module {module!r} has {sorted(weights)} only; a LoRA needs both A and B")
        name = "lora_unet_" + module.replace(".", "_")
        renamed[f"{name}.lora_down.weight"] = weights["lora_down.weight"]
        renamed[f"{name}.lora_up.weight"] = weights["lora_up.weight"]
        rank = weights["lora_down.weight"].shape[0]
        renamed[f"{name}.alpha"] = torch.tensor(float(rank if alpha is None else alpha), dtype=torch.float32)
    return renamed


def scales_by_block(model: nn.Module, adapter: str) -> dict[str, list[float]]:
    """The distinct scales (peft's `scaling`: the weight set_adapters gave times lora_alpha / r) of
    `adapter`'s LoRA layers in `model`, grouped by where the layer sits: "down_blocks.0.attentions",
    "down_blocks.0.resnets", "mid_block.attentions", "up_blocks.1.resnets", ...; a layer outside the
    blocks is grouped by its first name ("conv_in", "time_embedding"). Each list is sorted.

    Refuses: a `model` that is not an nn.Module (TypeError); an `adapter` that is not a str, or that
    no LoRA layer of `model` holds (ValueError, naming the adapters it holds).
    """
    validate.instance("model", model, nn.Module, "a torch.nn.Module with LoRA layers (e.g. pipe.unet)")
    if not isinstance(adapter, str):
        raise TypeError(f"adapter must be an adapter name (str), got {type(adapter).__name__}")
    from peft.tuners.tuners_utils import BaseTunerLayer

    groups: dict[str, set[float]] = {}
    held: set[str] = set()
    for name, module in model.named_modules():
        if not isinstance(module, BaseTunerLayer) or not hasattr(module, "scaling"):
            continue
        held.update(module.scaling)
        if adapter not in module.scaling:
            continue
        parts = name.split(".")
        if parts[0] in ("down_blocks", "up_blocks") and len(parts) > 2:
            group = ".".join(parts[:3])
        elif parts[0] == "mid_block" and len(parts) > 1:
            group = ".".join(parts[:2])
        else:
            group = parts[0]
        groups.setdefault(group, set()).add(float(module.scaling[adapter]))  # a tensor once hotswap is enabled
    if not groups:
        raise ValueError(f"adapter {adapter!r}: no LoRA layer of {type(model).__name__} holds it; "
                         f"its LoRA layers hold {sorted(held) or 'no adapter'}")
    return {group: sorted(values) for group, values in sorted(groups.items())}
