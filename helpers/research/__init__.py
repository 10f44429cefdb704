"""The chapters' research code: what one chapter (or two) studies, kept out of the library.

The exact Gaussian-mixture denoiser and its convergence study, A1111/k-diffusion parity, call
counting hooks, call-signature tables, the layout/detail distances, the Stable unCLIP recipe and
the LoRA chapter's adapters made with peft, and the peak CPU memory of a call.
Nothing outside this package imports it (tests/test_layout.py checks).
"""

# the layer's modules
__all__ = [
    "a1111_parity", "ablation", "convergence", "hooks", "kdiffusion", "lora", "memory", "mixture", "signatures",
    "stable_unclip",
]
