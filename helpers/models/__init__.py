"""Model building: tiny components from the real classes, full-size models on the meta device and
their cost, the configs real checkpoints ship with, the mirrors, and where diffusers and
transformers keep what they moved between releases.

`helpers.pipelines.load` builds on it; the toy world's trained models are in `helpers.toy`.
"""

# the layer's modules
__all__ = ["flops", "full_size", "mirror", "moved", "pag_recipes", "shipped_configs", "tiny", "tiny_cascade"]
