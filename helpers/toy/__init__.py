"""A toy world with trained weights: images whose truth the pixels tell (`world`), a scorer that
reads it back (`scorer`), a toy Stable Diffusion pipeline trained on it (`models`, `train`,
`python -m helpers.toy train`), the `toy` profile's loader (`profile`), and fine-tuning it on a new
concept, full or LoRA (`finetune`, `python -m helpers.toy finetune`), and tuning it on preference
pairs the scorer judges: Diffusion-DPO, diffusion ORPO and SFT on the winners (`preference`,
`python -m helpers.toy preference`)."""

# the layer's modules
__all__ = [
    "evaluate", "finetune", "interpolate", "location", "models", "preference", "profile", "scorer", "train",
    "train_wuerstchen", "world", "wuerstchen",
]
