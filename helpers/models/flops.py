"""Parameters and FLOPs of any model, counted on the meta device (or on real tensors).

A model built on `meta` (`build_on_meta`) has shapes but no storage: a 2.6 B-parameter SDXL UNet
costs no memory, and a forward pass on meta tensors computes only output shapes. `count_flops`
runs such a forward with the formulas of `torch.utils.flop_counter` (FlopCounterMode's table),
which count matrix multiplications, convolutions and attention at 2 FLOPs per multiply-add;
elementwise work, norms and softmax count zero. The same call works on real tensors on any device.

The full-size models the chapters compare, and the cost of one call of each at an image size,
are in `helpers.models.full_size`.
"""

from __future__ import annotations

import contextlib
import inspect
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch._C import DispatchKey
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from .. import validate

# what a reader is meant to use (the reference page lists these)
__all__ = ["Cost", "count_params", "count_flops", "build_on_meta", "module_dtypes"]


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
      (torch 2.13) and would count zero. For the same reason `nn.MultiheadAttention`'s inference
      fast path (also `nn.TransformerEncoderLayer`'s) is switched off while counting.
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
    # nn.MultiheadAttention (and nn.TransformerEncoderLayer) in inference take a fused fast path,
    # torch._native_multi_head_attention, which is not in the counter's table: its projections and
    # attention would count zero. Off while counting, they run the ops the table knows.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            output = fn(*args, **(kwargs or {}))
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
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

    WuerstchenDiffNeXt's initialiser runs once per module and each run rescales every residual
    block's last layer again (quadratic, and the scale compounds: chapter 07's claim
    `wuerstchen-diffnext-init-compounds-resblock-scale`): about 14 s of a 15 s build on meta, for
    nothing.
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

    Refuses: a `cls` that is not a torch.nn.Module class, a `config` that is not a dict,
    config keys `cls.__init__` does not take (naming the closest one), and config values of the
    wrong kind by `cls.__init__`'s annotations or defaults (a string for a number and vice versa).
    """
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise TypeError(f"cls must be a torch.nn.Module class (e.g. diffusers.UNet2DConditionModel), got {cls!r:.80}")
    if not isinstance(config, Mapping) or not all(isinstance(key, str) for key in config):
        raise TypeError(f"config must be a dict of constructor arguments by name, got {type(config).__name__}")
    parameters = inspect.signature(cls.__init__).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        validate.keywords("config", config, [name for name in parameters if name != "self"])
    validate.init_values("config", cls, config)  # "64" for an int, 3 for a str: refused before building
    with torch.device("meta"), _no_weight_init(cls):
        model = cls(**config)
    return model.eval()


# --- the dtype each module of a pipeline holds its weights in ---------------------------------------
# The dtype each torch module of a pipeline holds its weights in, read from the parameters.
#
# `pipe.dtype` reports one dtype for the whole pipeline (that of its first module); after a load
# with `variant=`, `dtype=`/`torch_dtype=` or a component's own `torch_dtype` in its config, the
# modules may hold different ones, and a module may even mix dtypes inside itself.


def module_dtypes(pipe) -> dict[str, torch.dtype | str | None]:
    """{component name: the dtype of all its parameters} for every component of `pipe` that is a
    torch module, in the pipeline's order: "mixed" where its parameters differ, None where it has
    none. Components that are not modules (tokenizers, schedulers, None) are left out.

    Refuses (TypeError): a `pipe` without a `components` dict (a diffusers pipeline has one).
    """
    components = getattr(pipe, "components", None)
    if not isinstance(components, dict):
        raise TypeError(
            f"pipe must be a diffusers pipeline (it has a components dict), got {type(pipe).__name__}"
        )
    found: dict[str, torch.dtype | str | None] = {}
    for name, module in components.items():
        if isinstance(module, torch.nn.Module):
            dtypes = {parameter.dtype for parameter in module.parameters()}
            found[name] = dtypes.pop() if len(dtypes) == 1 else ("mixed" if dtypes else None)
    return found
