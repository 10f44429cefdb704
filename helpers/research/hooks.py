"""Count how often a module runs, and on how many samples, while a pipeline is called.

A pipeline's cost is mostly the number of times it evaluates its denoiser, and on what batch.
`count_calls(pipe.unet)` registers a forward hook for the duration of a `with` block and
records one entry per completed forward call: its batch size and the shape of the input that
carried it. Leaving the block removes the hook, so the module is exactly as it was.

    with helpers.research.hooks.count_calls(pipe.unet) as unet:
        pipe(prompt, num_inference_steps=4)
    unet.calls, unet.batch_sizes, unet.samples   # 4, [2, 2, 2, 2], 8
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .. import validate

__all__ = ["CallCounter", "FirstCall", "count_calls", "first_call"]


class CallCounter:
    """Counts the completed forward calls of one `nn.Module` and the batch size of each.

    Use it as a context manager (or through `count_calls`): the hook exists only inside the
    `with` block, and the counts stay readable after it. A forward that raises is not counted.

    - `argument`: which input carries the batch. `None` (default) takes the first tensor among
      the positional arguments, then among the keyword arguments in the order they were passed;
      an int picks a positional argument, a str a keyword argument (or, for a call that passed
      it positionally, the parameter of that name in `module.forward`). The batch size is that
      tensor's first dimension.

    Refuses: a `module` that is not an nn.Module (a whole pipeline: pass pipe.unet), an
    `argument` that is not None/int/str, a negative index, and a parameter name that
    `module.forward` does not have (unless it takes **kwargs), naming the closest one.
    """

    def __init__(self, module: nn.Module, argument: int | str | None = None):
        if not isinstance(module, nn.Module):
            hint = " (a pipeline: count one of its models, e.g. pipe.unet)" if hasattr(module, "components") else ""
            raise TypeError(f"module: count_calls needs a torch.nn.Module, got {type(module).__name__}{hint}")
        if argument is not None and (isinstance(argument, (bool, np.bool_)) or not isinstance(argument, (int, np.integer, str))):
            raise TypeError(f"argument must be None, a positional index (int) or a parameter name (str), got {argument!r}")
        if isinstance(argument, (int, np.integer)):
            if argument < 0:
                raise ValueError(f"argument must be a non-negative positional index, got {argument}")
            argument = int(argument)
        self._parameters = _parameter_names(module)
        if isinstance(argument, str) and self._parameters and not _takes_any_keyword(module):
            if argument not in self._parameters:
                validate.one_of("argument", argument, self._parameters)
        self.module = module
        self.argument = argument
        self.shapes: list[torch.Size] = []
        self._handle = None

    @property
    def calls(self) -> int:
        """How many forward calls completed while the counter was active."""
        return len(self.shapes)

    @property
    def batch_sizes(self) -> list[int]:
        """The batch size of each call, in call order."""
        return [shape[0] for shape in self.shapes]

    @property
    def samples(self) -> int:
        """The total number of samples evaluated: the sum of the batch sizes."""
        return sum(self.batch_sizes)

    @property
    def active(self) -> bool:
        return self._handle is not None

    def reset(self) -> None:
        """Forget the calls counted so far (the hook, if active, stays)."""
        self.shapes.clear()

    def __enter__(self) -> CallCounter:
        if self._handle is not None:
            raise RuntimeError(f"this counter is already counting calls of {type(self.module).__name__}; use a new one")
        self._handle = self.module.register_forward_hook(self._hook, with_kwargs=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.remove()
        self._handle = None

    def _hook(self, module, args: tuple, kwargs: dict, output) -> None:
        self.shapes.append(self._batch_tensor(args, kwargs).shape)

    def _batch_tensor(self, args: Sequence, kwargs: Mapping) -> torch.Tensor:
        name = type(self.module).__name__
        if self.argument is None:
            for value in (*args, *kwargs.values()):
                if isinstance(value, torch.Tensor) and value.ndim > 0:
                    return value
            raise ValueError(
                f"a call to {name} had no tensor argument with a batch dimension; "
                "pass argument= (a positional index or a parameter name) to say which input carries the batch"
            )
        if isinstance(self.argument, int):
            value = args[self.argument] if self.argument < len(args) else None
            where = f"positional argument {self.argument}"
        elif self.argument in kwargs:
            value, where = kwargs[self.argument], f"argument {self.argument!r}"
        else:
            position = self._parameters.index(self.argument) if self.argument in self._parameters else None
            value = args[position] if position is not None and position < len(args) else None
            where = f"argument {self.argument!r}"
        if not isinstance(value, torch.Tensor) or value.ndim == 0:
            raise ValueError(
                f"a call to {name} has no tensor with a batch dimension in {where} "
                f"(got {type(value).__name__}); positional arguments passed: {len(args)}, "
                f"keyword arguments passed: {sorted(kwargs) or 'none'}"
            )
        return value


def count_calls(module: nn.Module, argument: int | str | None = None) -> CallCounter:
    """A `CallCounter` for `module`; use it in a `with` block. See `CallCounter` for `argument`.

    Refuses: what `CallCounter` refuses (a non-module, a bad or misspelt `argument`)."""
    return CallCounter(module, argument=argument)


def _parameter_names(module: nn.Module) -> list[str]:
    """The names of `module.forward`'s parameters, in order (empty if they cannot be read)."""
    try:
        return list(inspect.signature(module.forward).parameters)
    except (TypeError, ValueError):
        return []


def _takes_any_keyword(module: nn.Module) -> bool:
    try:
        parameters = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


# --- what a module received and returned the first time it ran --------------------------------------
# What one module received and returned the first time it ran inside a block.
#
# A chapter often needs a tensor from inside a pipeline call: the UNet's input at the first step, the
# output of one convolution, the `class_labels` the pipeline passed. `first_call(module)` keeps the
# first completed forward call's arguments and output, ignores the later ones (so a 20-step call
# costs no more memory than a 1-step one), and removes its hook when the block ends:
#
#     with first_call(pipe.unet.conv_in) as conv_in:
#         pipe(prompt, num_inference_steps=4)
#     conv_in.output.abs().max()          # the peak of conv_in at the first step
#     conv_in.arguments["input"]          # its input, by the name forward gives it


@dataclass
class FirstCall:
    """The first completed forward call of a module: `called` is False, and the rest empty, until
    one completes.

    `args` and `kwargs` are what the module was called with (after its pre-hooks); `arguments` the
    same by the names of the module's `forward` parameters (defaults not filled in); `output`
    what it returned. The tensors are the call's own, not copies.
    """

    called: bool = False
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    arguments: dict = field(default_factory=dict)
    output: Any = None


@contextlib.contextmanager
def first_call(module: nn.Module):
    """Yields a `FirstCall` that holds `module`'s first completed forward call inside the block;
    later calls are not kept. The hook is removed when the block ends, even when it raises.

    Refuses (TypeError): a `module` that is not a torch.nn.Module (a pipeline: pass pipe.unet...).
    """
    validate.instance("module", module, nn.Module, "a torch.nn.Module (a pipeline's pipe.unet, pipe.vae...)")
    signature = inspect.signature(module.forward)
    record = FirstCall()

    def keep_the_first(module, args, kwargs, output):
        if not record.called:
            record.called, record.args, record.kwargs, record.output = True, args, dict(kwargs), output
            record.arguments = dict(signature.bind_partial(*args, **kwargs).arguments)
        # returning None leaves the output as it is

    handle = module.register_forward_hook(keep_the_first, with_kwargs=True)
    try:
        yield record
    finally:
        handle.remove()
