"""Parameters and FLOPs of diffusion models, counted on the meta device.

A model built on `meta` has shapes but no storage: a 2.6 B-parameter SDXL UNet costs no memory,
and a forward pass on meta tensors computes only output shapes. `count_flops` runs such a forward
with the formulas of `torch.utils.flop_counter` (FlopCounterMode's table), which count matrix
multiplications, convolutions and attention at 2 FLOPs per multiply-add; elementwise work, norms
and softmax count zero. The same call works on real tensors on any device.

`FULL_SIZE` holds the published configurations of the full-size models the chapters compare
(Würstchen v2 Stages C, B and A; the Stable Diffusion 1.5 and SDXL UNets and VAE decoders), each
with the inputs its pipeline feeds it for a given image size, so that
`forward_cost("sdxl-unet", 1024, 1024)` is the cost of one UNet call at 1024².
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import inspect
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch._C import DispatchKey
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from . import validate

# --- published configurations -------------------------------------------------------------------
# Each dict is the model's config.json on the Hub, minus bookkeeping keys (_class_name,
# _diffusers_version) and keys equal to the class default. Tests rebuild the classes from these
# and check the published parameter counts.

# warp-ai/wuerstchen-prior, prior/config.json (Stage C, 993.6 M parameters).
WUERSTCHEN_PRIOR_CONFIG = dict(c_in=16, c=1536, c_cond=1280, c_r=64, depth=32, nhead=24, dropout=0.1)

# warp-ai/wuerstchen, decoder/config.json (Stage B): identical to the class defaults in
# diffusers 0.42.1, written out so that a change of defaults cannot change this chapter silently.
WUERSTCHEN_DECODER_CONFIG = dict(
    c_in=4, c_out=4, c_r=64, patch_size=2, c_cond=1024,
    c_hidden=[320, 640, 1280, 1280], nhead=[-1, 10, 20, 20], blocks=[4, 4, 14, 4],
    level_config=["CT", "CTA", "CTA", "CTA"], inject_effnet=[False, True, True, True],
    effnet_embd=16, clip_embd=1024, kernel_size=3, dropout=0.1,
)  # fmt: skip

# warp-ai/wuerstchen, vqgan/config.json (Stage A): the PaellaVQModel defaults.
WUERSTCHEN_VQGAN_CONFIG = dict(
    in_channels=3, out_channels=3, up_down_scale_factor=2, levels=2, bottleneck_blocks=12,
    embed_dim=384, latent_channels=4, num_vq_embeddings=8192, scale_factor=0.3764,
)  # fmt: skip

# runwayml/stable-diffusion-v1-5 (now stable-diffusion-v1-5/stable-diffusion-v1-5), unet/config.json.
SD15_UNET_CONFIG = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[320, 640, 1280, 1280],
    down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    attention_head_dim=8, cross_attention_dim=768,
)  # fmt: skip

# stabilityai/stable-diffusion-xl-base-1.0, unet/config.json.
SDXL_UNET_CONFIG = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[320, 640, 1280],
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    attention_head_dim=[5, 10, 20], transformer_layers_per_block=[1, 2, 10], cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816,
)  # fmt: skip

# vae/config.json of both SD 1.5 and SDXL base: the same architecture (they differ in
# sample_size and scaling_factor, which do not change the network).
SD_VAE_CONFIG = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
    block_out_channels=[128, 256, 512, 512],
    down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
)  # fmt: skip

# Published parameter counts (Hub safetensors headers / model cards), checked by the tests.
PUBLISHED_PARAMS = {
    "sd15-unet": 859_520_964,
    "sdxl-unet": 2_567_463_684,
    "sd-vae": 83_653_863,
}

TEXT_TOKENS = 77  # every text encoder here is a CLIP text model padded to its 77-token maximum
SD_VAE_FACTOR = 8  # VAE downsampling of SD 1.5 and SDXL (2 ** (len(block_out_channels) - 1))


# Würstchen pipeline configs (model_index.json of warp-ai/wuerstchen-prior and warp-ai/wuerstchen,
# equal to the pipelines' __init__ defaults): image side / 42.67 = Stage C side; Stage C side
# * 10.67 = Stage B side.
WUERSTCHEN_RESOLUTION_MULTIPLE = 42.67
WUERSTCHEN_LATENT_DIM_SCALE = 10.67


# --- counting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """What one call cost: FLOPs (total and per aten op), parameters it touched, output shape."""

    flops: int
    by_op: dict[str, int] = field(default_factory=dict)
    params_used: int = 0
    output_shape: torch.Size | None = None

    @property
    def tflops(self) -> float:
        return self.flops / 1e12


def count_params(model: torch.nn.Module) -> int:
    """The number of parameter elements of `model` (shared parameters counted once).

    Refuses: anything but a torch.nn.Module (a pipeline: pass pipe.unet, pipe.vae...)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: count_params needs a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())


def _first_tensor(output) -> torch.Tensor | None:
    """The main tensor of a model output: itself, `.sample`, or the first tensor in a tuple."""
    if isinstance(output, torch.Tensor):
        return output
    if hasattr(output, "sample") and isinstance(output.sample, torch.Tensor):
        return output.sample
    if isinstance(output, (tuple, list)):
        for item in output:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _meta_only(args) -> bool:
    return all(a.is_meta for a in args if isinstance(a, torch.Tensor))


def _decisive(a) -> bool:
    """Whether TensorIterator orders the result's dimensions by `a` alone (no size-1 or
    broadcast dimension leaves the order to another operand)."""
    return 1 not in a.shape and 0 not in a.stride()


def _like(a, dtype=None):
    """An empty tensor laid out as TensorIterator lays out an elementwise result of `a`.

    A dense `a` keeps its strides; a row-major view of distinct strides (a slice, a chunk) gives
    a contiguous result; anything else returns None, and the real meta kernel decides.
    """
    out = torch.empty_like(a, dtype=dtype)
    if out.stride() == a.stride():
        return out
    if _decisive(a) and all(x > y for x, y in zip(a.stride(), a.stride()[1:])):
        return torch.empty(a.shape, dtype=out.dtype, device=a.device)
    return None


def _elementwise(x, *args, **kwargs):
    return _like(x)


def _contiguous(x, *args, dtype=None, **kwargs):
    return torch.empty(x.shape, dtype=dtype or x.dtype, device=x.device)


def _broadcasts_to(shape, target) -> bool:
    try:
        return torch.broadcast_shapes(shape, target) == target
    except RuntimeError:
        return False  # incompatible: the kernel raises its own error


def _binary(a, b, *args, **kwargs):
    if not isinstance(a, torch.Tensor):
        return None
    if isinstance(b, torch.Tensor) and b.dim():
        same = b.shape == a.shape and b.stride() == a.stride()
        if not same and not (_decisive(a) and _broadcasts_to(b.shape, a.shape)):
            return None
    return _like(a, torch.result_type(a, b))


def _divide(a, b, *args, **kwargs):
    out = _binary(a, b)
    if out is not None and not out.is_floating_point():
        return None  # integer true division promotes to float: left to the kernel
    return out


def _matmul(*operands):
    a, b = operands[-2], operands[-1]
    if a.dim() != b.dim() or a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2] or a.dtype != b.dtype:
        return None  # let the real kernel raise its error
    return torch.empty((*a.shape[:-1], b.shape[-1]), dtype=a.dtype, device=a.device)


def _addmm(bias, a, b, *args, **kwargs):
    out = _matmul(a, b)
    return out if out is not None and _broadcasts_to(bias.shape, out.shape) else None


def _group_norm(x, weight, bias, n, channels, hw, groups, eps):
    if x.is_contiguous():
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
    elif x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        out = torch.empty_like(x, memory_format=torch.channels_last)
    else:
        return None
    return out, x.new_empty((n, groups)), x.new_empty((n, groups))


def _layer_norm(x, normalized_shape, weight, bias, eps):
    stats = (*x.shape[: x.dim() - len(normalized_shape)], *([1] * len(normalized_shape)))
    return _contiguous(x), x.new_empty(stats), x.new_empty(stats)


_aten = torch.ops.aten
# Shape-only results for the ops that dominate a meta forward. Their meta kernels are Python
# functions (about 1-10 ms a call on a CPU core; group_norm is the slowest); an empty tensor of
# the right shape, dtype and strides is all a FLOP count needs (the counts depend on shapes only).
# Used on meta tensors only; anything unusual falls through to the real meta kernel.
_SHAPE_ONLY = {
    _aten.native_group_norm.default: _group_norm,
    _aten.native_layer_norm.default: _layer_norm,
    _aten._safe_softmax.default: _contiguous,
    _aten.mm.default: _matmul,
    _aten.bmm.default: _matmul,
    _aten.addmm.default: _addmm,
    _aten.baddbmm.default: _addmm,
    **{op: _binary for op in (_aten.add.Tensor, _aten.sub.Tensor, _aten.mul.Tensor)},
    **{op: _binary for op in (_aten.add.Scalar, _aten.sub.Scalar, _aten.mul.Scalar)},
    _aten.div.Tensor: _divide,
    _aten.div.Scalar: _divide,
    **{op: _elementwise for op in (_aten.gelu.default, _aten.silu.default)},
}


class _LeanFlopCounter(TorchDispatchMode):
    """FlopCounterMode's formulas (`torch.utils.flop_counter.flop_registry`) without its per-call
    module tracking, plus the shape-only shortcuts above: 2-3x faster on meta, same counts
    (the tests and benchmarks/flops.py compare the two)."""

    def __init__(self):
        super().__init__()
        self.counts: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        packet = func._overloadpacket
        formula = flop_registry.get(packet)
        if formula is None and func.has_kernel_for_dispatch_key(DispatchKey.CompositeImplicitAutograd):
            # as FlopCounterMode does: a composite op may hide counted ops inside
            with self:
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
        shortcut = _SHAPE_ONLY.get(func)
        out = shortcut(*args, **kwargs) if shortcut is not None and _meta_only(args) else None
        if out is None:
            out = func(*args, **kwargs)
        if formula is not None:
            self.counts[str(packet)] += formula(*args, **kwargs, out_val=out)
        return out


def count_flops(
    fn: Callable, args: tuple = (), kwargs: dict | None = None, *, model: torch.nn.Module | None = None,
    reference: bool = False,
) -> Cost:
    """Run `fn(*args, **kwargs)` once and return its `Cost`, counted with torch.utils.flop_counter.

    - Works on meta tensors (shapes only) and on real ones (then `fn` really runs).
    - Attention runs on PyTorch's math backend while counting: the fused CPU kernel that
      `scaled_dot_product_attention` otherwise picks is not in the flop counter's table
      (torch 2.13) and would count zero.
    - Gradients are off, so the count is one inference call.
    - `reference=True` counts with `FlopCounterMode` itself instead of the faster equivalent.
    - `model` (default: `fn` if it is a module, or the module of a bound method such as
      `vae.decode`): the parameters of its submodules that ran are reported as `params_used`,
      so a VAE decode counts the decoder and not the encoder.

    Refuses: a `fn` that is not callable, `args` that is not a tuple or list, `kwargs` that is not
    a dict, a `model` that is not a module, a `reference` that is not a bool.
    """
    if not callable(fn):
        raise TypeError(f"fn: count_flops needs a callable (a module or a function), got {type(fn).__name__}")
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"args must be a tuple of positional arguments, got {type(args).__name__}")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"kwargs must be a dict of keyword arguments or None, got {type(kwargs).__name__}")
    reference = validate.boolean("reference", reference)
    if model is None:
        owner = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
        model = owner if isinstance(owner, torch.nn.Module) else None
    elif not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module whose parameters to report, got {type(model).__name__}")
    ran: list[torch.nn.Module] = []
    hooks = [m.register_forward_pre_hook(lambda m, _: ran.append(m)) for m in model.modules()] if model else []
    counter = FlopCounterMode(display=False) if reference else _LeanFlopCounter()
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            output = fn(*args, **(kwargs or {}))
    finally:
        for hook in hooks:
            hook.remove()
    if reference:
        by_op = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    else:
        by_op = {op: int(n) for op, n in counter.counts.items()}
    used = {id(p): p.numel() for m in ran for p in m.parameters(recurse=False)}
    tensor = _first_tensor(output)
    return Cost(
        flops=sum(by_op.values()),
        by_op=by_op,
        params_used=sum(used.values()),
        output_shape=tensor.shape if tensor is not None else None,
    )


@contextlib.contextmanager
def _no_weight_init(cls):
    """Skip a class's `_init_weights` while building on meta, where there are no values to set.

    WuerstchenDiffNeXt's initialiser loops over all blocks once per module (quadratic): about
    14 s of a 15 s build on meta, for nothing.
    """
    original = cls.__dict__.get("_init_weights")
    if original is None:
        yield
        return
    cls._init_weights = lambda self, module: None
    try:
        yield
    finally:
        cls._init_weights = original


def build_on_meta(cls: type, config: dict) -> torch.nn.Module:
    """`cls(**config)` on the meta device, in eval mode: shapes only, no memory, no weights.

    Refuses: a `cls` that is not a torch.nn.Module class, a `config` that is not a dict, and
    config keys `cls.__init__` does not take (naming the closest one).
    """
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise TypeError(f"cls must be a torch.nn.Module class (e.g. diffusers.UNet2DConditionModel), got {cls!r:.80}")
    if not isinstance(config, Mapping) or not all(isinstance(key, str) for key in config):
        raise TypeError(f"config must be a dict of constructor arguments by name, got {type(config).__name__}")
    parameters = inspect.signature(cls.__init__).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        validate.keywords("config", config, [name for name in parameters if name != "self"])
    with torch.device("meta"), _no_weight_init(cls):
        model = cls(**config)
    return model.eval()


# --- the full-size models -----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """A full-size model: how to build it and what its pipeline feeds it for an image size.

    `inputs(height, width, batch)` returns (method name, args, kwargs) with meta tensors shaped
    exactly as the pipeline shapes them; `size_multiple` is what height and width must divide by.
    """

    name: str
    description: str
    source: str
    class_name: str
    config: dict
    inputs: Callable[[int, int, int], tuple[str, tuple, dict]]
    default_size: int
    size_multiple: int = 1

    def model_class(self) -> type:
        module, _, cls = self.class_name.rpartition(".")
        return getattr(importlib.import_module(module), cls)

    def build(self) -> torch.nn.Module:
        return build_on_meta(self.model_class(), self.config)


def _meta(*shape: int) -> torch.Tensor:
    return torch.zeros(shape, device="meta")


def wuerstchen_latent_sizes(height: int, width: int) -> dict[str, tuple[int, int]]:
    """Spatial sizes of the Stage C and Stage B latents for an image, as the pipelines compute them.

    Stage C: ceil(side / resolution_multiple) (prior pipeline, 42.67); Stage B:
    int(stage_c * latent_dim_scale) (decoder pipeline, 10.67); Stage A upsamples Stage B by 4.

    Refuses: height or width that are not ints >= 1.
    """
    _check_size("Würstchen", height, width, 1)
    multiple, scale = WUERSTCHEN_RESOLUTION_MULTIPLE, WUERSTCHEN_LATENT_DIM_SCALE
    c = (math.ceil(height / multiple), math.ceil(width / multiple))
    b = (int(c[0] * scale), int(c[1] * scale))
    return {"stage_c": c, "stage_b": b, "image": (4 * b[0], 4 * b[1])}


def _prior_inputs(height, width, batch):
    h, w = wuerstchen_latent_sizes(height, width)["stage_c"]
    c_in, c_cond = WUERSTCHEN_PRIOR_CONFIG["c_in"], WUERSTCHEN_PRIOR_CONFIG["c_cond"]
    return "forward", (_meta(batch, c_in, h, w), _meta(batch), _meta(batch, TEXT_TOKENS, c_cond)), {}


def _decoder_inputs(height, width, batch):
    sizes = wuerstchen_latent_sizes(height, width)
    if any(side % 16 for side in sizes["stage_b"]):
        # patch size 2 and three stride-2 levels: the skip connections only line up at multiples of 16
        raise ValueError(
            f"{height}x{width} gives a Stage B latent of {sizes['stage_b']}, which WuerstchenDiffNeXt cannot "
            "process (each side must be a multiple of 16); use an image size such as 512, 768 or 1024"
        )
    cfg = WUERSTCHEN_DECODER_CONFIG
    x = _meta(batch, cfg["c_in"], *sizes["stage_b"])
    effnet = _meta(batch, cfg["effnet_embd"], *sizes["stage_c"])
    return "forward", (x, _meta(batch), effnet, _meta(batch, TEXT_TOKENS, cfg["clip_embd"])), {}


def _vqgan_inputs(height, width, batch):
    h, w = wuerstchen_latent_sizes(height, width)["stage_b"]
    return "decode", (_meta(batch, WUERSTCHEN_VQGAN_CONFIG["latent_channels"], h, w),), {}


def _sd_unet_inputs(config):
    def inputs(height, width, batch):
        sample = _meta(batch, config["in_channels"], height // SD_VAE_FACTOR, width // SD_VAE_FACTOR)
        text = _meta(batch, TEXT_TOKENS, config["cross_attention_dim"])
        kwargs = {}
        if config.get("addition_embed_type") == "text_time":
            # SDXL: pooled bigG text embedding (1280) + six size/crop ids, 1280 + 6 * 256 = 2816
            kwargs["added_cond_kwargs"] = {"text_embeds": _meta(batch, 1280), "time_ids": _meta(batch, 6)}
        return "forward", (sample, _meta(batch), text), kwargs

    return inputs


def _sd_vae_inputs(height, width, batch):
    latent = _meta(batch, SD_VAE_CONFIG["latent_channels"], height // SD_VAE_FACTOR, width // SD_VAE_FACTOR)
    return "decode", (latent,), {}


FULL_SIZE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("wuerstchen-prior", "Würstchen Stage C (WuerstchenPrior), one denoising call",
                  "warp-ai/wuerstchen-prior", "diffusers.pipelines.deprecated.wuerstchen.WuerstchenPrior", WUERSTCHEN_PRIOR_CONFIG,
                  _prior_inputs, 1024),
        ModelSpec("wuerstchen-decoder", "Würstchen Stage B (WuerstchenDiffNeXt), one denoising call",
                  "warp-ai/wuerstchen", "diffusers.pipelines.deprecated.wuerstchen.WuerstchenDiffNeXt", WUERSTCHEN_DECODER_CONFIG,
                  _decoder_inputs, 1024),
        ModelSpec("wuerstchen-vqgan", "Würstchen Stage A (PaellaVQModel.decode)",
                  "warp-ai/wuerstchen", "diffusers.pipelines.deprecated.wuerstchen.PaellaVQModel", WUERSTCHEN_VQGAN_CONFIG,
                  _vqgan_inputs, 1024),
        ModelSpec("sd15-unet", "SD 1.5 UNet2DConditionModel, one denoising call",
                  "stable-diffusion-v1-5/stable-diffusion-v1-5", "diffusers.UNet2DConditionModel", SD15_UNET_CONFIG,
                  _sd_unet_inputs(SD15_UNET_CONFIG), 512, 64),
        ModelSpec("sd15-vae-decoder", "SD 1.5 AutoencoderKL.decode",
                  "stable-diffusion-v1-5/stable-diffusion-v1-5", "diffusers.AutoencoderKL", SD_VAE_CONFIG,
                  _sd_vae_inputs, 512, SD_VAE_FACTOR),
        ModelSpec("sdxl-unet", "SDXL base UNet2DConditionModel, one denoising call",
                  "stabilityai/stable-diffusion-xl-base-1.0", "diffusers.UNet2DConditionModel", SDXL_UNET_CONFIG,
                  _sd_unet_inputs(SDXL_UNET_CONFIG), 1024, 32),
        ModelSpec("sdxl-vae-decoder", "SDXL AutoencoderKL.decode (same network as SD 1.5's)",
                  "stabilityai/stable-diffusion-xl-base-1.0", "diffusers.AutoencoderKL", SD_VAE_CONFIG,
                  _sd_vae_inputs, 1024, SD_VAE_FACTOR),
    ]
}  # fmt: skip
MODEL_NAMES = tuple(FULL_SIZE)


def _check_size(what: str, height, width, multiple: int) -> None:
    for label, side in (("height", height), ("width", width)):
        side = validate.positive_int(f"{what}: {label} (pixels)", side)
        if side % multiple:
            raise ValueError(f"{what}: {label} must be a multiple of {multiple}, got {side}")


def spec(name: str) -> ModelSpec:
    """The `ModelSpec` called `name`; a ValueError lists the valid names.

    Refuses: a name that is not a str (TypeError) or not in MODEL_NAMES (ValueError, with the
    closest name when it looks like a typo)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {', '.join(MODEL_NAMES)}; got {type(name).__name__} {name!r:.60}")
    if name not in FULL_SIZE:
        close = difflib.get_close_matches(name, MODEL_NAMES, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"name: unknown model {name!r}; accepted: {', '.join(MODEL_NAMES)}{hint}")
    return FULL_SIZE[name]


def build(name: str) -> torch.nn.Module:
    """The full-size model `name` on the meta device (about a second; no memory).

    Refuses: what `spec` refuses."""
    return spec(name).build()


def forward_cost(
    name: str,
    height: int | None = None,
    width: int | None = None,
    batch: int = 1,
    model: torch.nn.Module | None = None,
    reference: bool = False,
) -> Cost:
    """The `Cost` of one call of full-size model `name` for a `height` x `width` image.

    Sizes default to the model's native resolution. Pass `model` (from `build(name)`) to reuse
    one built model across sizes. FLOPs are exact for the given shapes, and linear in `batch`.

    Refuses: an unknown `name`; sizes that are not positive ints or not multiples of the
    model's `size_multiple`; a `batch` that is not an int >= 1; a `model` that is not the class
    `name` names or was built with another configuration (e.g. `build("sd15-unet")` passed for
    "sdxl-unet": same class, other shapes); a `reference` that is not a bool.
    """
    entry = spec(name)
    height = entry.default_size if height is None else height
    width = height if width is None else width
    _check_size(name, height, width, entry.size_multiple)
    batch = validate.positive_int("batch", batch)
    reference = validate.boolean("reference", reference)
    if model is not None:
        _check_model(name, entry, model)
    method, args, kwargs = entry.inputs(height, width, batch)
    model = build(name) if model is None else model
    return count_flops(getattr(model, method), args, kwargs, reference=reference)


def _check_model(name: str, entry: ModelSpec, model) -> None:
    """A model given to `forward_cost` must be what `build(name)` builds: same class, same config."""
    cls = entry.model_class()
    if not isinstance(model, cls):
        raise TypeError(f"model must be a {cls.__name__} (build({name!r})), got {type(model).__name__}")
    config = getattr(model, "config", {})
    differs = [key for key, value in entry.config.items() if _plain(config.get(key)) != _plain(value)]
    if differs:
        raise ValueError(
            f"model was built with another configuration than {name!r}: {', '.join(differs[:4])} differ "
            f"(e.g. {differs[0]}={config.get(differs[0])!r}, expected {entry.config[differs[0]]!r}); pass build({name!r})"
        )


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value
