"""A toy world with trained weights: images whose truth the pixels tell (`world`), a scorer that
reads it back (`scorer`), a toy Stable Diffusion pipeline trained on it (`models`, `train`,
`python -m helpers.toy train`), and the `toy` profile's loader (`profile`)."""
