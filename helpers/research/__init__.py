"""The chapters' research code: what one chapter (or two) studies, kept out of the library.

The exact Gaussian-mixture denoiser and its convergence study, A1111/k-diffusion parity, call
counting hooks, call-signature tables, the layout/detail distances and the Stable unCLIP recipe.
Nothing outside this package imports it (tests/test_layout.py checks).
"""

# the layer's modules
__all__ = [
    "a1111_parity", "ablation", "convergence", "hooks", "kdiffusion", "mixture", "signatures",
    "stable_unclip",
]
