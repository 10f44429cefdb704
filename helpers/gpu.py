"""Speed and memory settings for a diffusers pipeline, applied through diffusers' and torch's APIs.

`optimize(pipe, ctx, goal, **options)` starts from a recipe (`RECIPES[goal]`), lets keyword options
override it, checks the whole combination first, then applies it and returns a `Report` of what
it applied. Nothing is applied when one of its checks fails (an error diffusers raises itself later,
e.g. compile_repeated_blocks without a matching block class, can leave settings applied). An option
this module knows cannot take effect here (no CUDA, an incompatible pair, a setting the pipeline has
no code path for), or treats as a mistake (compile with sequential offload: accelerate disables the compiler on
its weight moves, so it runs with a graph break where each offloaded module loads its weights, or raises with
`fullgraph=True`; a `fullgraph=True` compile whose graph would reach a model or group offload hook, whose weight
moves are compiler-disabled too), or one that would replace attention processors diffusers does not install by
default (IP-Adapter's, custom ones; PAG installs its own only during a call), through `attention` or
through a UNet's `fuse_qkv`, or `attention='eager'` over fused QKV (`pipe.unfuse_qkv_projections()` first, or the
model's own where it was fused directly), is an
`OptionError` naming the option and the reason; `attention='sdpa'` keeps fused QKV's `FusedAttnProcessor2_0`, which
already uses SDPA (a note says so). That is not every no-op: VAE slicing on a batch of
one, VAE tiling below `tile_latent_min_size` and tf32 on a bfloat16 pipeline (tf32 acts on float32
math only) are accepted and change nothing there (`Report.notes` says so where it applies them).

Sources (diffusers v0.42.1, `src/diffusers/`):
- offload: `pipelines/pipeline_utils.py` L1174-L1268 (model), L1293-L1359 (sequential),
  L1361-L1486 (group), L2229-L2245 (model and sequential offload refuse a group-offloaded
  pipeline); `hooks/group_offloading.py` L995-L1006 (group offloading refuses accelerate's hooks),
  L670-L676 (`use_stream` refuses a CPU onload device or a backend without streams), L353-L363
  (`onload_`/`offload_` are `torch.compiler.disable`d; accelerate 1.16.0 wraps `CpuOffload.pre_forward`,
  model offload's hook, in its lazy `_compiler_disable`, `accelerate/hooks.py` L36-L45 and L744-L745).
- VAE slicing and tiling: `models/autoencoders/vae.py` L898-L929 (`AutoencoderMixin`); the
  pipeline-level `enable_vae_slicing`/`enable_vae_tiling` no longer exist on the SD and SDXL
  pipelines of 0.42.1 (removed in 0.40.0, per the claims matrix).
- fused QKV: `pipelines/pipeline_utils.py` L2311-L2336; the fp16 VAE upcast:
  `pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py` L1264-L1294.
- attention backends: `models/modeling_utils.py` L608-L668 (`set_attention_backend` only
  reaches processors that have an `_attention_backend` attribute; the UNet's `AttnProcessor2_0`
  has none, so on SD/SDXL it does not reach the UNet's processors; but it sets the process-wide active backend,
  L668, which every `dispatch_attention_fn` call without a backend of its own then uses,
  `models/attention_dispatch.py` L416-L419; processors that call torch's SDPA directly, such as
  `AttnProcessor2_0`, never read it).
- regional compilation: `models/modeling_utils.py` L1664-L1697 (`compile_repeated_blocks`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import torch

from . import validate
from .runtime import Context

# what a reader is meant to use (the reference page lists these)
__all__ = ["RECIPES", "OptionError", "Report", "denoiser_name", "placement", "optimize"]

GOALS = ("vanilla", "speed", "memory", "balanced")

# What each goal turns on. "vanilla" is the 1.0x baseline of the benchmark: SDPA and nothing else.
RECIPES: dict[str, dict] = {
    "vanilla": {"attention": "sdpa"},
    "speed": {
        "attention": "sdpa",
        "tf32": True,
        "channels_last": True,
        "fuse_qkv": True,
        "compile": {"mode": "reduce-overhead", "fullgraph": True},
    },
    "memory": {
        "attention": "sdpa",
        "group_offload": {"offload_type": "leaf_level", "use_stream": True},
        "vae_slicing": True,
        "vae_tiling": True,
    },
    "balanced": {
        "attention": "sdpa",
        "tf32": True,
        "channels_last": True,
        "model_offload": True,
        "vae_tiling": True,
    },
}

ATTENTION = ("sdpa", "eager")  # besides these, any name of diffusers' AttentionBackendName
COMPILE_KEYS = {"mode": (str, type(None)), "fullgraph": bool, "backend": str, "dynamic": (bool, type(None)),
                "regional": bool}  # fmt: skip
GROUP_KEYS = {"offload_type": str, "num_blocks_per_group": (int, type(None)), "use_stream": bool}
OPTIONS: dict[str, tuple] = {
    "attention": (str,),
    "channels_last": (bool,),
    "fuse_qkv": (bool,),
    "compile": (bool, dict),
    "vae_slicing": (bool,),
    "vae_tiling": (bool,),
    "vae_force_upcast": (bool,),
    "model_offload": (bool,),
    "sequential_offload": (bool,),
    "group_offload": (bool, dict),
    "tf32": (bool,),
}
OFFLOADS = ("model_offload", "sequential_offload", "group_offload")


class OptionError(ValueError):
    """An option that cannot take effect on this pipeline, device or combination."""

    def __init__(self, option: str, reason: str):
        self.option = option
        self.reason = reason
        super().__init__(f"optimize(): option {option!r} cannot apply: {reason}")


class CompileCounter:
    """Graphs Dynamo has compiled since this counter was made (`torch._dynamo.utils.counters`).

    The counter is process-wide: compile nothing else in between if the count is to mean one model.
    A new input shape that the guards reject compiles a new graph; with `dynamic=None` (torch's
    default) a size that changes is marked dynamic and recompiled once, and later values may reuse
    that graph, unless a guard of the dynamic graph (a size specialised in the code, a branch on a
    size) rejects them. How many graphs a model compiles depends on its differently shaped blocks and
    on the sizes it sees; count them rather than assume.
    """

    def __init__(self):
        self.start = self._now()

    @staticmethod
    def _now() -> int:
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])

    @property
    def graphs(self) -> int:
        return self._now() - self.start


@dataclass
class Report:
    """What `optimize` applied: option -> value, in the order applied, plus notes worth reading."""

    goal: str
    applied: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    compile_counter: CompileCounter | None = None

    def table(self) -> str:
        rows = [f"{name:<18} {value}" for name, value in self.applied.items()]
        return "\n".join([f"goal: {self.goal}", *rows, *(f"note: {n}" for n in self.notes)])


def denoiser_name(pipe) -> str:
    """'unet' or 'transformer' (or 'prior'/'decoder'): the module the denoising loop calls."""
    if isinstance(pipe, type):
        raise TypeError(f"pipe must be a loaded pipeline (an instance), got the class {pipe.__name__} itself")
    for name in ("unet", "transformer", "prior", "decoder"):
        if isinstance(getattr(pipe, name, None), torch.nn.Module):
            return name
    raise TypeError(
        f"pipe must be a diffusers pipeline with a unet, transformer, prior or decoder module to optimise; "
        f"{type(pipe).__name__} has none"
    )


def placement(pipe) -> dict[str, str]:
    """Where each model component's first parameter lives now: 'cpu', 'cuda:0', 'meta'.

    'meta' is where the parameter attributes point, not where the values are: sequential offload
    (accelerate's cpu_offload) keeps the values in a CPU copy between calls, and leaves a buffer on the
    execution device where diffusers passes offload_buffers=False (a model with no parameters of its
    own, pipeline_utils.py L1356-L1358). Group offload's weights are on its offload device (or on disk
    with offload_to_disk_path). Only the first parameter is read."""
    components = None if isinstance(pipe, type) else getattr(pipe, "components", None)
    if not isinstance(components, dict):
        what = f"the class {pipe.__name__} itself" if isinstance(pipe, type) else type(pipe).__name__
        raise TypeError(f"pipe must be a diffusers pipeline (with .components), e.g. the one pipelines.load returns; got {what}")
    where = {}
    for name, component in components.items():
        if isinstance(component, torch.nn.Module):
            first = next(component.parameters(), None)
            where[name] = "none" if first is None else str(first.device)
    return where


def _validate(goal, options: dict) -> dict:
    if not isinstance(goal, str) or goal not in GOALS:
        raise ValueError(f"goal must be one of {', '.join(GOALS)}; got {goal!r}")
    # NumPy scalars as Python ones: np.bool_(True) is an unambiguous True
    options = {name: value.item() if isinstance(value, np.generic) else value for name, value in options.items()}
    for name, value in options.items():
        if name not in OPTIONS:
            close = difflib.get_close_matches(name, OPTIONS, n=2)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"unknown option {name!r}.{hint} Accepted: {', '.join(OPTIONS)}")
        kinds = OPTIONS[name]
        if value is False:  # removes the option from the recipe, whatever its type (attention=False too)
            continue
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            accepted = " or ".join(k.__name__ for k in kinds)
            raise TypeError(f"option {name!r} must be {accepted}, got {type(value).__name__} ({value!r})")
    chosen = {**RECIPES[goal], **options}
    for name, keys in (("compile", COMPILE_KEYS), ("group_offload", GROUP_KEYS)):
        if isinstance(chosen.get(name), dict):
            chosen[name] = {k: v.item() if isinstance(v, np.generic) else v for k, v in chosen[name].items()}
            for key, value in chosen[name].items():
                if key not in keys:
                    raise ValueError(f"option {name!r}: unknown key {key!r}; accepted: {', '.join(keys)}")
                if isinstance(value, bool) and keys[key] in (int, (int, type(None))) or not isinstance(value, keys[key]):
                    kinds = keys[key] if isinstance(keys[key], tuple) else (keys[key],)
                    accepted = " or ".join(k.__name__ for k in kinds)
                    raise TypeError(f"option {name!r}: {key} must be {accepted}, got {type(value).__name__} {value!r}")
            _check_values(name, chosen[name])
    # False means "off" (drop it, so the report lists only what was applied), except for
    # vae_force_upcast, where False is a setting: decode in float16 without the upcast
    return {name: value for name, value in chosen.items() if value is not False or name == "vae_force_upcast"}


def _check_values(name: str, options: dict) -> None:
    """Values of the compile and group_offload dicts that torch or diffusers would refuse only when applying
    them (the pipeline half changed) or at the first call: a mode or backend typo, a group of 0 blocks."""
    if name == "compile":
        import torch._dynamo
        import torch._inductor

        if options.get("mode") is not None and hasattr(torch._inductor, "list_mode_options"):
            validate.one_of("option 'compile': mode", options["mode"], torch._inductor.list_mode_options())
        if "backend" in options:
            validate.one_of("option 'compile': backend", options["backend"], torch._dynamo.list_backends(exclude_tags=()))
    else:
        if "offload_type" in options:
            validate.one_of("option 'group_offload': offload_type", options["offload_type"], ("block_level", "leaf_level"))
        if options.get("num_blocks_per_group") is not None:
            validate.positive_int("option 'group_offload': num_blocks_per_group", options["num_blocks_per_group"])


def _check(pipe, ctx: Context, chosen: dict) -> None:
    """Every reason this module refuses the combination, raised before anything is changed (errors diffusers
    raises itself later, e.g. compile_repeated_blocks or its own offload checks, can leave settings applied)."""
    cuda = ctx.device.type == "cuda"
    offloads = [name for name in OFFLOADS if name in chosen]
    if "compile" in chosen and "sequential_offload" in chosen:
        raise OptionError("compile", "sequential offload puts an accelerate hook on every leaf module, moving "
                          "weights inside forward: torch.compile breaks the graph at each one")
    _check_fullgraph_offload(chosen)
    if len(offloads) > 1:
        raise OptionError(
            offloads[1],
            f"it cannot be combined with {offloads[0]!r}: each replaces the other's hooks "
            "(enable_model_cpu_offload and enable_sequential_cpu_offload call remove_all_hooks; group "
            "offloading refuses accelerate hooks, hooks/group_offloading.py L995-L1006, and they refuse "
            "it, pipeline_utils.py L2229-L2245)",
        )
    for name in offloads:
        if not cuda:
            raise OptionError(name, f"this module offloads only on CUDA; the context's device is {ctx.device.type} "
                              "(diffusers itself offloads to any torch.accelerator, utils/torch_utils.py L244-L245, "
                              "and raises 'requires accelerator' on the CPU)")
    if "tf32" in chosen and not cuda:
        raise OptionError("tf32", f"TF32 matmul is a CUDA setting; on {ctx.device.type} it would change nothing")
    compile_options = chosen.get("compile")
    if compile_options is not None:
        options = {} if compile_options is True else compile_options
        mode = options.get("mode")
        # reduce-overhead's only setting is triton.cudagraphs (torch._inductor.list_mode_options), which does
        # nothing off CUDA; max-autotune also autotunes, which inductor does on the CPU too, so it is accepted
        if mode == "reduce-overhead" and not cuda:
            raise OptionError("compile", f"mode {mode!r} only records CUDA graphs (triton.cudagraphs), which do "
                              f"nothing on {ctx.device.type}")
        if mode is not None and options.get("backend", "inductor") != "inductor":
            raise OptionError("compile", f"mode {mode!r} is an inductor setting; backend is {options['backend']!r}")
        if options.get("regional") and not getattr(getattr(pipe, denoiser_name(pipe)), "_repeated_blocks", None):
            raise OptionError("compile", "regional compilation needs the denoiser's _repeated_blocks; it has none")
    group = chosen.get("group_offload")
    if isinstance(group, dict) and group.get("use_stream") and not cuda:
        raise OptionError("group_offload", "use_stream needs an accelerator with streams: diffusers refuses a CPU "
                          "onload device (hooks/group_offloading.py L670-L676), and this module streams only on CUDA")
    for name in ("vae_slicing", "vae_tiling"):
        if name in chosen and not hasattr(getattr(pipe, "vae", None), "enable_" + name[4:]):
            raise OptionError(name, f"{type(pipe).__name__} has no VAE with enable_{name[4:]}()")
    if "vae_force_upcast" in chosen:
        if not hasattr(pipe, "upcast_vae"):
            raise OptionError("vae_force_upcast", f"{type(pipe).__name__} has no upcast_vae(), so this module "
                              "treats it as having no fp16 VAE upcast path (some pipelines upcast without that "
                              "method, e.g. Stable Video Diffusion; this module does not support them)")
        if pipe.vae.dtype != torch.float16:
            raise OptionError("vae_force_upcast", f"the VAE is {pipe.vae.dtype}; the upcast path runs only for "
                              "float16 (pipeline_stable_diffusion_xl.py L1264)")
    attention = chosen.get("attention")
    if attention is not None:
        _check_attention(pipe, attention)
        if attention == "eager":
            _check_not_fused(pipe, denoiser_name(pipe))
        if "fuse_qkv" in chosen and attention != "sdpa":
            raise OptionError("fuse_qkv", f"it installs FusedAttnProcessor2_0 (SDPA) and would undo attention="
                              f"{attention!r}")
    if "fuse_qkv" in chosen and not hasattr(getattr(pipe, denoiser_name(pipe)), "fuse_qkv_projections"):
        raise OptionError("fuse_qkv", f"the {denoiser_name(pipe)} has no fuse_qkv_projections()")
    if "fuse_qkv" in chosen and hasattr(pipe, "fuse_qkv_projections") and denoiser_name(pipe) == "unet":
        from diffusers import AutoencoderKL

        if not isinstance(getattr(pipe, "vae", None), AutoencoderKL):
            raise OptionError("fuse_qkv", f"pipe.fuse_qkv_projections() fuses the UNet and then raises for a VAE "
                              f"that is not AutoencoderKL (pipeline_utils.py L2327-L2332); this VAE is "
                              f"{type(getattr(pipe, 'vae', None)).__name__}")
    # set_attn_processor replaces every processor (a backend name replaces none), and so does a UNet's
    # fuse_qkv (FusedAttnProcessor2_0 on every attention, pipeline_utils.py L2327-L2336), whatever
    # attention= says; a transformer's fuse_qkv_projections installs its own fused processors, not checked here
    fuse_unet = "fuse_qkv" in chosen and denoiser_name(pipe) == "unet"
    if attention in ATTENTION or fuse_unet:
        _check_processors(pipe, denoiser_name(pipe), "attention" if attention in ATTENTION else "fuse_qkv",
                          fuse_qkv=fuse_unet)


def _check_fullgraph_offload(chosen: dict) -> None:
    """fullgraph=True raises Unsupported where the compiled graph reaches an offload hook's weight move:
    accelerate 1.16.0 wraps CpuOffload.pre_forward in its lazy _compiler_disable (hooks.py L36-L45, L744-L745),
    diffusers group offloading compiler-disables its onload_/offload_ (hooks/group_offloading.py L353-L363);
    where exactly Dynamo stops is not checked (chapter 11). A whole-model compile reaches the
    model's own hook; a regional one reaches only hooks inside its blocks (group offload's leaf_level)."""
    options = chosen.get("compile")
    if options is None or not (isinstance(options, dict) and options.get("fullgraph")):
        return
    regional = options.get("regional", False)
    group = chosen.get("group_offload")
    leaf = isinstance(group, dict) and group.get("offload_type") == "leaf_level"
    if "model_offload" in chosen and not regional:
        raise OptionError("compile", "fullgraph=True cannot compile through model offload's hook: accelerate "
                          "1.16.0 wraps CpuOffload.pre_forward, which runs in the model's forward, in its lazy "
                          "_compiler_disable (hooks.py L36-L45, L744-L745), and Dynamo raises Unsupported at the "
                          "first call; use "
                          "fullgraph=False (a graph break there) or regional=True (the blocks hold no hook)")
    if group is not None and (leaf or not regional):
        where = "on every leaf module, inside the repeated blocks too" if leaf else "on the model's blocks"
        raise OptionError("compile", f"fullgraph=True cannot compile through group offload's hooks ({where}): "
                          "diffusers compiler-disables their onload_/offload_ (hooks/group_offloading.py "
                          "L353-L363), so Dynamo raises Unsupported at the first call; use fullgraph=False (a "
                          "graph break at each group)" + ("" if leaf else " or regional=True"))


def _processors(module) -> dict:
    """A model's attention processors by layer name; {} for a missing module or one without attention."""
    return getattr(module, "attn_processors", None) or {}


def _fused(processors: dict) -> bool:
    """Whether fuse_qkv_projections() installed FusedAttnProcessor2_0 (reading to_qkv/to_kv) among them."""
    from diffusers.models.attention_processor import FusedAttnProcessor2_0

    return any(isinstance(p, FusedAttnProcessor2_0) for p in processors.values())


def _check_processors(pipe, name: str, option: str, fuse_qkv: bool) -> None:
    """attention='sdpa'/'eager' and fuse_qkv replace every processor; refuse when one is not a default one
    (IP-Adapter's, custom ones)."""
    from diffusers.models.attention_processor import (
        AttnProcessor,
        AttnProcessor2_0,
        FusedAttnProcessor2_0,
    )

    defaults = (AttnProcessor, AttnProcessor2_0, FusedAttnProcessor2_0)  # FusedAttnProcessor2_0: fuse_qkv's own
    # pipe.fuse_qkv_projections() fuses the UNet and the VAE; the UNet's own (no pipeline method) only the UNet
    fuses_vae = option == "attention" or (hasattr(pipe, "fuse_qkv_projections") and name == "unet")
    for module_name in (name, "vae") if fuses_vae else (name,):
        processors = _processors(getattr(pipe, module_name, None))
        custom = sorted({type(p).__name__ for p in processors.values() if type(p) not in defaults})
        if custom:
            how = ("set_attn_processor" if option == "attention"
                   else "fuse_qkv_projections() (FusedAttnProcessor2_0 on every attention)")
            keep = "attention=False and fuse_qkv=False" if option == "attention" and fuse_qkv else f"{option}=False"
            raise OptionError(option, f"{how} would replace the {module_name}'s {', '.join(custom)} with a default "
                              f"processor; pass {keep} to keep them")


def _unfuse_call(pipe, module_name: str) -> str:
    """The call that unfuses `module_name`'s QKV: the pipeline's unfuse_qkv_projections acts only where its
    own fuse_qkv_projections set fusing_unet/fusing_vae (pipeline_utils.py L2349-L2360: unset raises, False
    only warns); a model fused directly is unfused by the model's own method."""
    if getattr(pipe, f"fusing_{module_name}", False) is True:
        return "pipe.unfuse_qkv_projections()"
    return f"pipe.{module_name}.unfuse_qkv_projections()"


def _check_not_fused(pipe, name: str) -> None:
    """attention='eager' over fused QKV would put AttnProcessor where FusedAttnProcessor2_0 reads the fused
    to_qkv/to_kv weights: the fusion silently undone, its extra parameters kept. Refuse, naming the explicit call
    that undoes it (pipe.unfuse_qkv_projections() where the pipeline fused, else the model's own; both keep those
    parameters: unet_2d_condition.py L843-L850)."""
    for module_name in (name, "vae"):
        if _fused(_processors(getattr(pipe, module_name, None))):
            call = _unfuse_call(pipe, module_name)
            raise OptionError("attention", f"the {module_name}'s QKV projections are fused (FusedAttnProcessor2_0): "
                              "attention='eager' would silently replace its fused processors; to leave fused QKV, "
                              f"call {call} first (it restores the unfused processors but "
                              "keeps the fused to_qkv/to_kv weights in memory, unused), or keep attention='sdpa', "
                              "which keeps the fused processors")


def _check_attention(pipe, attention: str) -> None:
    if attention in ATTENTION:  # set through attention processors, which every release has
        return
    try:
        from diffusers.models.attention_dispatch import AttentionBackendName
    except ModuleNotFoundError as error:
        if error.name != "diffusers.models.attention_dispatch":
            raise
        import diffusers

        raise OptionError("attention", f"diffusers {diffusers.__version__} has no attention backends "
                          "(models/attention_dispatch.py, from 0.35 on); use 'sdpa' or 'eager'") from None
    backends = {member.value for member in AttentionBackendName}
    if attention not in backends:
        raise ValueError(f"option 'attention': unknown {attention!r}; accepted: {', '.join(ATTENTION)} or one of "
                         f"diffusers' backends: {', '.join(sorted(backends))}")
    model = getattr(pipe, denoiser_name(pipe))
    processors = _processors(model)
    if not any(hasattr(p, "_attention_backend") for p in processors.values()):
        raise OptionError("attention", f"set_attention_backend({attention!r}) would not reach the "
                          f"{type(model).__name__}'s attention processors (none has an _attention_backend, "
                          "models/modeling_utils.py L659-L665) but would change diffusers' process-wide active "
                          "backend (L668), which other models' dispatch_attention_fn calls without a backend of "
                          "their own use (attention_dispatch.py L416-L419); use 'sdpa' or 'eager'")


def _set_tf32(report: Report) -> None:
    # Sets CUDA float32 matmuls to TF32 (off by default) and cuDNN convolutions and RNNs to TF32 too: torch's
    # default for them already, so for cuDNN this changes something only over a user's own opt-out, which it
    # overrides. Before Ampere (compute capability 8.0) a GPU has no TF32, and the settings change nothing.
    # Through the legacy allow_tf32 switches on every torch: on torch 2.9 and later, setting the new
    # API's fp32_precision = "tf32" instead makes later legacy reads (torch.backends.cuda.matmul.allow_tf32,
    # torch.get_float32_matmul_precision()) raise RuntimeError for mixing the two APIs (torch 2.13);
    # after the legacy switches both the legacy and the new reads work.
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    report.notes.append("tf32 is process-wide: it sets CUDA float32 matmuls to TF32, and cuDNN convolutions and "
                        "RNNs too (torch's default for them already, so only a user's own opt-out changes), "
                        "through torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32, so "
                        "that both these and the fp32_precision settings read back afterwards; before Ampere a "
                        "GPU has no TF32")


def _set_attention(pipe, name: str, attention: str, report: Report) -> None:
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0, FusedAttnProcessor2_0

    for module_name in (name, "vae"):
        module = getattr(pipe, module_name, None)
        if module is None or not hasattr(module, "set_attn_processor"):
            continue
        processors = _processors(module)
        if attention == "sdpa" and _fused(processors):
            # fused QKV's processor already calls SDPA; AttnProcessor2_0 there would leave to_qkv/to_kv
            # unused (the fusion undone, its memory kept), so each fused processor stays
            module.set_attn_processor({key: p if isinstance(p, FusedAttnProcessor2_0) else AttnProcessor2_0()
                                       for key, p in processors.items()})
            undo = _unfuse_call(pipe, module_name)
            report.notes.append(f"attention='sdpa' kept the {module_name}'s FusedAttnProcessor2_0 (fused QKV, "
                                f"which already uses SDPA); {undo} restores the unfused "
                                "processors but keeps the fused to_qkv/to_kv weights in memory")
        elif attention == "sdpa":
            module.set_attn_processor(AttnProcessor2_0())
        elif attention == "eager":
            module.set_attn_processor(AttnProcessor())
        elif module_name == name:
            module.set_attention_backend(attention)


def _compile(pipe, name: str, options: dict, report: Report) -> None:
    model = getattr(pipe, name)
    options = dict(options)
    regional = options.pop("regional", False)
    options = {key: value for key, value in options.items() if value is not None}
    report.compile_counter = CompileCounter()
    # in place (nn.Module.compile): pipe.unet stays a UNet2DConditionModel, so hooks and
    # set_attn_processor keep working on it
    if regional:
        model.compile_repeated_blocks(**options)
    else:
        model.compile(**options)


def optimize(pipe, ctx: Context, goal: str = "speed", **options) -> Report:
    """Apply the recipe `goal` (one of GOALS; see RECIPES), with `options` overriding it.

    Options (name: type): attention: 'sdpa' | 'eager' | a diffusers backend name; channels_last,
    fuse_qkv, vae_slicing, vae_tiling, vae_force_upcast, model_offload, sequential_offload, tf32:
    bool; compile: bool or dict(mode, fullgraph, backend, dynamic, regional); group_offload: bool or
    dict(offload_type, num_blocks_per_group, use_stream). `False` removes an option of the recipe.

    Guarantees: arguments are validated (ValueError/TypeError naming the argument and what is
    accepted) and the combination is checked (`OptionError`) before the pipeline is touched; an error
    diffusers raises itself later (compile_repeated_blocks, its own offload checks) can leave settings applied.
    Refuses: attention='sdpa'/'eager' or a UNet's fuse_qkv over processors other than AttnProcessor/AttnProcessor2_0/
    FusedAttnProcessor2_0 (IP-Adapter's, custom ones, which set_attn_processor or fuse_qkv_projections would
    replace; PAG's are installed only during a call, so they are not seen); attention='eager' over fused QKV's
    FusedAttnProcessor2_0 (it would silently undo the fusion; pipe.unfuse_qkv_projections(), or the model's own
    method where the model was fused directly, undoes it explicitly,
    and it too keeps the fused weights; attention='sdpa' keeps the fused processors, with a note); fuse_qkv on a pipeline whose VAE is not
    AutoencoderKL (diffusers would fuse the UNet, then raise); offloading and tf32 off CUDA (this module supports them only there); two offload modes together; compile with sequential
    offload; compile with fullgraph=True and model offload (unless regional) or group offload (unless regional
    and block_level): the offload hooks' weight moves are compiler-disabled; a fp16 VAE upcast on a pipeline that has no such path or is not float16; an attention
    backend the denoiser's processors ignore or the release lacks (diffusers < 0.35 has none);
    a compile mode or backend torch does not know, a group of
    fewer than 1 block; a `pipe` that is not a DiffusionPipeline (its UNet, the class) and a pipeline in
    a dtype `ctx.device` cannot run (`validate.dtype`). NumPy bools and ints are taken as Python ones.
    """
    from diffusers import DiffusionPipeline

    validate.instance("ctx", ctx, Context, "the Context returned by helpers.setup()")
    validate.instance(
        "pipe", pipe, DiffusionPipeline, "a diffusers pipeline (e.g. from helpers.pipelines.load), not one of its modules"
    )
    validate.dtype("the pipeline's dtype", pipe.dtype, ctx.device, pipeline=type(pipe).__name__)
    chosen = _validate(goal, options)
    name = denoiser_name(pipe)
    _check(pipe, ctx, chosen)
    report = Report(goal=goal)
    order = ("tf32", "attention", "fuse_qkv", "channels_last", "vae_slicing", "vae_tiling", "vae_force_upcast",
             "model_offload", "sequential_offload", "group_offload", "compile")  # fmt: skip
    for option in order:
        if option not in chosen:
            continue
        value = chosen[option]
        if option == "tf32":
            _set_tf32(report)
            if pipe.dtype != torch.float32:
                report.notes.append(f"tf32 acts on float32 math only; this pipeline computes in {pipe.dtype} "
                                    "(only a float32 upcast, e.g. SDXL's fp16 VAE decode, would use it)")
        elif option == "attention":
            _set_attention(pipe, name, value, report)
            if value not in ATTENTION:
                report.notes.append("set_attention_backend is process-wide: it also sets diffusers' active "
                                    "attention backend (modeling_utils.py L668), used by every dispatch_attention_fn "
                                    "call without a backend of its own (attention_dispatch.py L416-L419)")
        elif option == "fuse_qkv":
            if hasattr(pipe, "fuse_qkv_projections") and name == "unet":
                pipe.fuse_qkv_projections()  # the UNet's and the VAE's, with FusedAttnProcessor2_0
            else:
                getattr(pipe, name).fuse_qkv_projections()
        elif option == "channels_last":
            getattr(pipe, name).to(memory_format=torch.channels_last)
        elif option == "vae_slicing":
            pipe.vae.enable_slicing()
            report.notes.append("VAE slicing acts only on a batch of more than one latent (optimize does not know the "
                                "batch: it is the call's num_images_per_prompt times the prompts)")
        elif option == "vae_tiling":
            pipe.vae.enable_tiling()
            if hasattr(pipe.vae, "tile_latent_min_size"):
                n = pipe.vae.tile_latent_min_size
                factor = getattr(pipe, "vae_scale_factor", None)
                pixels = f" (images larger than {n * factor} px)" if isinstance(factor, int) else ""
                report.notes.append(f"VAE tiling acts only on latents larger than {n} a side{pixels}")
        elif option == "vae_force_upcast":
            pipe.vae.register_to_config(force_upcast=value)
        elif option == "model_offload":
            pipe.enable_model_cpu_offload(device=ctx.device)
        elif option == "sequential_offload":
            pipe.enable_sequential_cpu_offload(device=ctx.device)
        elif option == "group_offload":
            settings = {"offload_type": "block_level", "num_blocks_per_group": 1}
            settings.update({} if value is True else value)
            if settings["offload_type"] == "leaf_level":
                settings.pop("num_blocks_per_group", None)
            pipe.enable_group_offload(onload_device=ctx.device, offload_device=torch.device("cpu"), **settings)
            value = settings
        elif option == "compile":
            value = {} if value is True else value
            _compile(pipe, name, value, report)
        report.applied[option] = value
    return report
