"""The tiny 9-channel inpainting components (helpers.models.tiny.build_sd15_inpaint)."""

import numpy as np
import torch
from diffusers import StableDiffusionInpaintPipeline
from PIL import Image

from helpers.models import tiny


def _pipe():
    pipe = StableDiffusionInpaintPipeline(**tiny.build(tiny.build_sd15_inpaint))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _call(pipe, mask, **kwargs):
    image = Image.fromarray(np.full((32, 32, 3), 200, dtype="uint8"))
    return pipe("a red circle", image=image, mask_image=mask, height=32, width=32, num_inference_steps=2,
                output_type="np", generator=torch.Generator().manual_seed(0), **kwargs).images


def test_the_unet_takes_nine_channels_and_the_rest_is_the_tiny_sd15():
    components = tiny.build(tiny.build_sd15_inpaint)
    sd15 = tiny.build(tiny.build_sd15)
    assert components["unet"].config.in_channels == 9
    assert components["unet"].config.out_channels == 4
    assert set(components) == set(sd15)
    for name in ("vae", "text_encoder"):  # the shared components are built with the same weights
        for a, b in zip(components[name].state_dict().values(), sd15[name].state_dict().values()):
            assert torch.equal(a, b)


def test_the_weights_are_the_same_on_every_build():
    a, b = (tiny.build(tiny.build_sd15_inpaint)["unet"].conv_in.weight for _ in range(2))
    assert torch.equal(a, b)


def test_the_output_depends_on_the_mask_channels():
    """Every input channel has random weights: the mask reaches the UNet's output."""
    pipe = _pipe()
    assert pipe.unet.conv_in.weight[:, 4:].abs().min() > 0
    left = np.zeros((32, 32), dtype="uint8")
    left[:, :16] = 255
    right = left[:, ::-1].copy()
    assert not np.array_equal(_call(pipe, Image.fromarray(left)), _call(pipe, Image.fromarray(right)))
