"""Peak CPU memory of one call, from torch.profiler's memory events (the GPU chapter's VAE tiling).

On a GPU, `torch.cuda.max_memory_allocated` answers this; on the CPU torch keeps no such counter,
but its profiler records every allocation and free of the CPU allocator.
"""

from __future__ import annotations

import itertools

import torch
from torch.profiler import ProfilerActivity, profile

# what a reader is meant to use (the reference page lists these)
__all__ = ["peak_cpu_bytes"]


def peak_cpu_bytes(run):
    """(run()'s result, the most bytes the CPU allocator held at once during it above what it held
    when run() started; 0 if run() allocated nothing).

    Refuses (TypeError) a `run` that is not callable.
    """
    if not callable(run):
        raise TypeError(f"run must be a function of no arguments (e.g. a lambda), got {type(run).__name__}")
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = run()
    # the "[memory]" events prof.events() is built from, read without building it (slow), kept
    # where torch counts CPU memory (torch/autograd/profiler.py L624-L638)
    kinds = torch.autograd.DeviceType
    cpu = (kinds.CPU, kinds.MKLDNN, kinds.IDEEP)
    allocations = sorted(
        (event.start_ns(), event.nbytes())  # nbytes < 0: a free
        for event in prof.profiler.kineto_results.events()
        if event.name() == "[memory]" and event.device_type() in cpu
    )
    return result, max(itertools.accumulate((nbytes for _, nbytes in allocations), initial=0))
