"""What a pipeline's `__call__` accepts, read from the installed diffusers with `inspect`.

Readers copy call arguments from one pipeline to another; this module shows, per pipeline class,
which parameters exist, their defaults and their documentation, so that a table in the book is
recomputed from the code on every run and cannot go stale.

- `call_parameters(pipeline)`: the parameters of one pipeline class (or instance), in order.
- `compare(*pipelines)`: a table, one row per parameter (grouped), one column per pipeline.
- `diff(a, b)`: the rows of `compare(a, b)` where the two pipelines differ.
- `doc_disagreements(*pipelines)`: where a docstring's "defaults to" is not the signature's default.
- `computed_size(pipe, ...)`: the (height, width) a call computes from its arguments, read from the
  pipeline's own code before any model runs.
- `full_size_on_meta(name)`: SD 1.5, SDXL or PixArt-Σ with the full-size denoiser and VAE on the meta
  device, so that the real checkpoints' computed defaults can be asserted in every profile.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import re
from dataclasses import dataclass

import pandas as pd

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "ABSENT", "group_of", "CallParameter", "call_parameters", "compare", "diff", "parameter_docs",
    "doc_disagreements", "computed_size", "full_size_on_meta",
]

ABSENT = "absent"
REQUIRED = "required"
VAR_KEYWORD = "**kwargs"

GROUPS = ("prompting", "size", "guidance", "schedule", "outputs", "callbacks", "model-specific")

# Which concern a parameter serves. A name not listed here is "model-specific": the table then
# still shows it, and a new diffusers parameter lands in the last group rather than disappearing.
_GROUP_OF = {
    "prompting": (
        "prompt", "prompt_2", "negative_prompt", "negative_prompt_2", "prompt_embeds",
        "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds",
        "prompt_attention_mask", "negative_prompt_attention_mask", "num_images_per_prompt",
        "clip_skip", "max_sequence_length", "clean_caption", "text_model_output",
        "text_attention_mask", "ip_adapter_image", "ip_adapter_image_embeds",
    ),
    "size": ("height", "width", "use_resolution_binning"),
    "guidance": (
        "guidance_scale", "guidance_rescale", "prior_guidance_scale", "decoder_guidance_scale",
        "pag_scale", "pag_adaptive_scale",
    ),
    "schedule": (
        "num_inference_steps", "timesteps", "sigmas", "eta", "denoising_end", "generator", "latents",
        "prior_num_inference_steps", "prior_timesteps", "decoder_num_inference_steps",
        "decoder_timesteps", "super_res_num_inference_steps", "prior_latents", "decoder_latents",
        "super_res_latents",
    ),
    "outputs": ("output_type", "return_dict"),
    "callbacks": (
        "callback_on_step_end", "callback_on_step_end_tensor_inputs", "prior_callback_on_step_end",
        "prior_callback_on_step_end_tensor_inputs", "callback", "callback_steps",
    ),
}
GROUP_OF = {name: group for group, names in _GROUP_OF.items() for name in names}


def group_of(name: str) -> str:
    """The group a parameter name belongs to; unknown names are 'model-specific'.

    Refuses (TypeError): a `name` that is not a str.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a parameter name (a str), got {type(name).__name__} {name!r}")
    return GROUP_OF.get(name, "model-specific")


@dataclass(frozen=True)
class CallParameter:
    """One parameter of a pipeline's `__call__`.

    `default` is the default object itself (`inspect.Parameter.empty` when there is none);
    `shown` is what a table cell shows: the default's repr, 'required', or '**kwargs'.
    `doc` is the parameter's entry in the `__call__` docstring ('' when undocumented) and
    `documented_default` what that entry says the default is ('' when it does not say): for
    `height=None` the docstring is where the real default (a computed size) is written down.
    """

    name: str
    group: str
    default: object
    shown: str
    annotation: str
    doc: str
    documented_default: str = ""


def _pipeline_class(pipeline) -> type:
    """The DiffusionPipeline subclass behind `pipeline` (a class or an instance), or a TypeError."""
    from diffusers import DiffusionPipeline

    cls = pipeline if isinstance(pipeline, type) else type(pipeline)
    if not issubclass(cls, DiffusionPipeline):
        given = (
            f"the class {cls.__qualname__}" if isinstance(pipeline, type)
            else f"{cls.__qualname__} {pipeline!r:.60}"
        )
        raise TypeError(
            f"pipeline: expected a diffusers pipeline (a DiffusionPipeline subclass such as "
            f"diffusers.StableDiffusionPipeline, or an instance of one); got {given}"
        )
    if not any("__call__" in vars(k) for k in cls.__mro__ if issubclass(k, DiffusionPipeline)):
        raise TypeError(
            f"{cls.__qualname__} defines no __call__ (it is a base class); pass a concrete pipeline "
            "class such as diffusers.StableDiffusionPipeline"
        )
    return cls


def _docs(function) -> dict[str, tuple[str, str]]:
    """Parameter name -> (type spec, prose) from the 'Args:' section of a diffusers docstring.

    diffusers writes `name (`type`, *optional*, defaults to X):` followed by indented prose; the
    type spec is what stands between the parentheses.
    """
    lines = (inspect.getdoc(function) or "").splitlines()
    indent = lambda line: len(line) - len(line.lstrip())  # noqa: E731
    starts = [i for i, line in enumerate(lines) if line.strip() == "Args:"]
    if not starts:
        return {}
    base = indent(lines[starts[0]])
    specs: dict[str, list[str]] = {}
    prose: dict[str, list[str]] = {}
    entry_indent, current, spec_open = None, None, False
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            continue
        if indent(line) <= base:
            break
        if entry_indent is None:
            entry_indent = indent(line)
        # `name (spec): text`, also written `name: (spec): text`, the spec sometimes wrapped
        match = re.match(r"\s*(\w+):?\s+\((.*)$", line) if indent(line) == entry_indent else None
        if match:
            current, rest = match.group(1), match.group(2)
            specs[current], prose[current] = [], []
        elif current is None:
            continue
        else:
            rest = line.strip()
        if match or spec_open:
            spec, closed, text = rest.rpartition("):") if "):" in rest else (rest, "", "")
            spec_open = not closed
            specs[current].append(spec.strip())
            rest = text
        if rest.strip():
            prose[current].append(rest.strip())
    return {name: (" ".join(specs[name]), " ".join(prose[name])) for name in specs}


def documented_default(spec: str) -> str:
    """What a docstring's type spec says the default is ('' when it does not say).

    Refuses (TypeError): a `spec` that is not a str.
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a docstring type spec (a str), got {type(spec).__name__}")
    match = re.search(r"defaults to:?\s*(.+?)\s*$", spec)
    return match.group(1).strip("`. ") if match else ""


def _annotation_text(annotation) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    # a module with `from __future__ import annotations` leaves its annotations as strings
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def call_parameters(pipeline) -> list[CallParameter]:
    """The parameters of `pipeline.__call__` in signature order, without `self`.

    `pipeline` is a DiffusionPipeline subclass or an instance of one; anything else raises a
    TypeError naming what was given. A `**kwargs` catch-all appears as a parameter named
    'kwargs' whose `shown` is '**kwargs' (such pipelines accept, and may silently ignore,
    keywords their signature does not list).

    Refuses (TypeError): anything but a concrete DiffusionPipeline class or instance.
    """
    cls = _pipeline_class(pipeline)
    signature = inspect.signature(cls.__call__)
    docs = _docs(cls.__call__)
    params = []
    for name, p in signature.parameters.items():
        if name == "self" or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            shown = VAR_KEYWORD
        elif p.default is p.empty:
            shown = REQUIRED
        else:
            shown = repr(p.default)
        annotation = _annotation_text(p.annotation)
        spec, doc = docs.get(name, ("", ""))
        params.append(CallParameter(name, group_of(name), p.default, shown, annotation, doc, documented_default(spec)))
    return params


def _label(pipeline) -> str:
    return _pipeline_class(pipeline).__name__


def compare(*pipelines) -> pd.DataFrame:
    """One row per parameter, one column per pipeline (named by class), cells = default or 'absent'.

    Rows are indexed by (group, parameter), groups in the order of `GROUPS`, parameters within a
    group in the order they first appear in the pipelines' signatures. A cell holds the default's
    repr, 'required' when there is no default, '**kwargs' for a catch-all, or 'absent'.

    Refuses: no pipelines, the same class twice (ValueError); anything that is not a pipeline
    class or instance (TypeError).
    """
    if not pipelines:
        raise ValueError("compare() needs at least one pipeline class, e.g. compare(StableDiffusionPipeline)")
    labels = [_label(p) for p in pipelines]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"compare() got the same pipeline class more than once: {', '.join(repeated)}")
    columns = {label: {p.name: p for p in call_parameters(pipe)} for label, pipe in zip(labels, pipelines)}
    order: dict[str, str] = {}
    for params in columns.values():
        for name, p in params.items():
            order.setdefault(name, p.group)
    rows = sorted(order, key=lambda name: GROUPS.index(order[name]))  # stable: keeps first-seen order
    index = pd.MultiIndex.from_tuples([(order[name], name) for name in rows], names=["group", "parameter"])
    data = {
        label: [params[name].shown if name in params else ABSENT for name in rows] for label, params in columns.items()
    }
    return pd.DataFrame(data, index=index, columns=labels)


def diff(a, b) -> pd.DataFrame:
    """The rows of `compare(a, b)` where `a` and `b` differ, with a 'change' column.

    'change' is 'only in <A>', 'only in <B>' or 'default differs'. Two identical signatures give
    an empty frame with the same columns.

    Refuses: what `compare` refuses, including `a` and `b` of the same class.
    """
    table = compare(a, b)
    la, lb = table.columns
    differs = table[table[la] != table[lb]].copy()
    differs["change"] = [
        f"only in {la}" if vb == ABSENT else f"only in {lb}" if va == ABSENT else "default differs"
        for va, vb in zip(differs[la], differs[lb])
    ]
    return differs


def parameter_docs(pipeline) -> pd.DataFrame:
    """One pipeline's parameters: group, default, documented default, type annotation and doc.

    Refuses (TypeError): anything but a pipeline class or instance.
    """
    params = call_parameters(pipeline)
    return pd.DataFrame(
        {"group": [p.group for p in params], "default": [p.shown for p in params],
         "documented default": [p.documented_default for p in params],
         "type": [p.annotation for p in params], "doc": [p.doc for p in params]},
        index=pd.Index([p.name for p in params], name="parameter"),
    )


def _literal(text: str):
    """(True, value) when `text` is a Python literal, else (False, None)."""
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _same_default(documented, default) -> bool:
    """Equal values, where 1 and 1.0 agree but True and 1 do not; incomparable values differ."""
    if isinstance(documented, bool) or isinstance(default, bool):
        return type(documented) is type(default) and documented == default
    try:
        return bool(documented == default)
    except (TypeError, ValueError):  # e.g. an array default, whose == is element-wise
        return False


def doc_disagreements(*pipelines) -> pd.DataFrame:
    """Parameters whose docstring's "defaults to ..." is not the signature's default.

    One row per (pipeline, parameter), columns 'default' (the signature's), 'documented default'
    and 'documented as': 'another value' when the docstring names a different literal, or
    'an expression' when it describes a computed default (such as
    `self.unet.config.sample_size * self.vae_scale_factor`) that the signature writes as None.
    Parameters whose docstring names no default, or the signature's own, are left out.

    Refuses: no pipelines (ValueError), anything but pipeline classes or instances (TypeError).
    """
    if not pipelines:
        raise ValueError("doc_disagreements() needs at least one pipeline class")
    if len(pipelines) == 1 and isinstance(pipelines[0], (list, tuple, set)):
        raise TypeError(
            "pipelines must be passed one argument each, doc_disagreements(A, B), not as one list: "
            "unpack it with doc_disagreements(*pipelines)"
        )
    rows = []
    for pipe in pipelines:
        for p in call_parameters(pipe):
            if not p.documented_default or p.default is inspect.Parameter.empty:
                continue
            is_literal, value = _literal(p.documented_default)
            if is_literal and _same_default(value, p.default):
                continue
            kind = "another value" if is_literal else "an expression"
            rows.append((_label(pipe), p.name, p.shown, p.documented_default, kind))
    index_names = ["pipeline", "parameter"]
    frame = pd.DataFrame(rows, columns=index_names + ["default", "documented default", "documented as"])
    return frame.set_index(index_names)


# --- sizes a call computes ------------------------------------------------------------------------

META_FAMILIES = ("sd15", "sdxl", "pixart-sigma")


class _SizeProbe(Exception):
    """Raised from inside a pipeline call to hand back the size it computed."""


def computed_size(pipe, *args, **kwargs) -> tuple[int, int]:
    """The (height, width) that `pipe(*args, **kwargs)` computes, without running any model.

    Text-to-image pipelines fill in the size (defaults, rounding, resolution binning) at the top
    of `__call__`, then pass it to `check_inputs`. This runs the call up to that point and returns
    what it passes, so it works on models built on the meta device. The size is then put to the
    pipeline's own `check_inputs`: a size the real call would refuse is refused here too.

    Refuses: with a TypeError, a `pipe` that is not a pipeline instance, or whose `check_inputs`
    takes no height and width; with a ValueError, keywords `__call__` does not list (a pipeline
    with `**kwargs` would silently ignore a typo such as `heigth=`), a height or width that is
    not an int >= 1, and a computed size that `check_inputs` refuses (not divisible by 8). A call
    that returns without reaching `check_inputs` is a RuntimeError.
    """
    from diffusers import DiffusionPipeline

    from .. import validate

    if not isinstance(pipe, DiffusionPipeline):
        raise TypeError(f"pipe: computed_size() needs a pipeline instance, got {type(pipe).__name__}")
    listed = {p.name for p in call_parameters(pipe) if p.shown != VAR_KEYWORD}
    for key in kwargs:
        if key not in listed:
            close = difflib.get_close_matches(key, sorted(listed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{type(pipe).__name__}.__call__ has no parameter {key!r}{hint}; it would be ignored")
    for key in ("height", "width"):
        if kwargs.get(key) is not None:
            validate.positive_int(key, kwargs[key])
    check = getattr(pipe, "check_inputs", None)
    parameters = inspect.signature(check).parameters if callable(check) else {}
    if not {"height", "width"} <= set(parameters):
        raise TypeError(
            f"{type(pipe).__name__}.check_inputs takes no height and width; computed_size() works on "
            "pipelines that compute their image size, such as StableDiffusionPipeline"
        )
    signature = inspect.signature(check)

    original = check

    def capture(*a, **k):
        bound = signature.bind(*a, **k).arguments
        height, width = bound["height"], bound["width"]
        try:
            original(*a, **k)
        except ValueError as error:
            # only the size matters here; other complaints (a missing prompt) are not this function's
            if "height" in str(error) or "width" in str(error):
                raise ValueError(f"height={height}, width={width}: {type(pipe).__name__} refuses this size: {error}") from None
        raise _SizeProbe(height, width)

    pipe.check_inputs = capture  # an instance attribute: the class keeps its method
    try:
        pipe(*args, **kwargs)
    except _SizeProbe as probe:
        return probe.args
    finally:
        del pipe.check_inputs
    raise RuntimeError(f"{type(pipe).__name__}(...) returned without calling check_inputs")


def full_size_on_meta(name: str):
    """The pipeline `name` with its real checkpoint's denoiser and VAE, built on the meta device.

    `name` is one of META_FAMILIES (ValueError otherwise). The UNets, PixArt-Σ's transformer and the
    VAE come from `helpers.models.full_size`; the scheduler is the checkpoint's, and the text encoders,
    tokenizers and safety checker are left out (None). Enough for everything a call computes before
    it encodes the prompt, such as `computed_size`; it cannot generate. About a second, no memory.

    Refuses: a `name` that is not a str (TypeError) or not in META_FAMILIES (ValueError).
    """
    from diffusers import (
        DPMSolverMultistepScheduler,
        EulerDiscreteScheduler,
        PixArtSigmaPipeline,
        PNDMScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
    )

    from ..models import full_size, shipped_configs

    if not isinstance(name, str):
        raise TypeError(f"name must be one of {', '.join(META_FAMILIES)} (a str), got {type(name).__name__} {name!r}")
    if name not in META_FAMILIES:
        close = difflib.get_close_matches(name, META_FAMILIES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"name: full_size_on_meta() builds {', '.join(META_FAMILIES)}; got {name!r}{hint}")
    vae = full_size.build("sd15-vae-decoder")  # SD 1.5, SDXL and PixArt-Σ share this VAE network
    if name == "sd15":
        return StableDiffusionPipeline(
            vae=vae, unet=full_size.build("sd15-unet"), text_encoder=None, tokenizer=None,
            scheduler=PNDMScheduler.from_config(shipped_configs.SD15_SCHEDULER), safety_checker=None,
            feature_extractor=None, requires_safety_checker=False,
        )
    if name == "sdxl":
        return StableDiffusionXLPipeline(
            vae=vae, unet=full_size.build("sdxl-unet"), text_encoder=None, text_encoder_2=None,
            tokenizer=None, tokenizer_2=None,
            scheduler=EulerDiscreteScheduler.from_config(shipped_configs.SDXL_SCHEDULER),
        )
    return PixArtSigmaPipeline(
        vae=vae, transformer=full_size.PIXART_SIGMA_TRANSFORMER.build(), text_encoder=None, tokenizer=None,
        scheduler=DPMSolverMultistepScheduler.from_config(shipped_configs.PIXART_SIGMA_SCHEDULER),
    )
