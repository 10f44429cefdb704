"""helpers.toy.inpaint and `python -m helpers.toy train-inpaint`: the 9-channel UNet starts as the
toy SD, masks sit on the latent grid, a training step changes only conv_in and the LoRA and
writes files `load_inpaint` reads back, and bad input is refused. (No trained inpainting model is
committed yet: chapter 14's part on it, and the test of its first steps against a committed
curve, come with one.)"""

import numpy as np
import pytest
import torch

from helpers.toy import finetune, inpaint, world
from helpers.toy.__main__ import main as toy_main



@pytest.fixture(scope="module")
def base():
    torch.set_num_threads(1)
    return finetune.load_base()


def test_the_wide_unet_starts_as_the_toy_sd(base):
    wide = inpaint.inpainting_unet(base.unet)
    assert wide.config.in_channels == inpaint.INPAINT_CHANNELS == 9
    assert not wide.conv_in.weight[:, 4:].any()  # the five new channels start at zero
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(2, 4, 8, 8, generator=g)
    extra = torch.randn(2, 5, 8, 8, generator=g)  # any mask and masked image
    text = torch.randn(2, 77, base.unet.config.cross_attention_dim, generator=g)
    with torch.no_grad():
        narrow = base.unet(latents, 500, encoder_hidden_states=text).sample
        widened = wide(torch.cat([latents, extra], 1), 500, encoder_hidden_states=text).sample
    # the zero channels add exact zeros, but a 9-channel convolution may sum in another order
    # than a 4-channel one: float32 rounding only
    torch.testing.assert_close(widened, narrow, rtol=1e-5, atol=1e-5)


def test_the_wide_unet_refuses_a_unet_that_is_already_wide(base):
    wide = inpaint.inpainting_unet(base.unet)
    with pytest.raises(ValueError, match="4 input channels"):
        inpaint.inpainting_unet(wide)
    with pytest.raises(TypeError):
        inpaint.inpainting_unet(base)  # the pipeline, not its UNet


def test_object_boxes_cover_the_shape_on_the_latent_grid():
    _, _, scenes = world.make_dataset(200, seed=3)
    for scene in scenes:
        x0, y0, x1, y1 = inpaint.object_box(scene)
        assert all(v % inpaint.CELL == 0 for v in (x0, y0, x1, y1))
        x, y = scene.centre
        # a shape near the edge may reach past it: the box stops at the image
        assert x0 <= max(x - scene.half_size, 0) and min(x + scene.half_size, world.SIZE) <= x1
        assert y0 <= max(y - scene.half_size, 0) and min(y + scene.half_size, world.SIZE) <= y1
        drawn = world.render(scene).max(-1) > 0  # every drawn pixel lies in the box
        mask = inpaint.box_mask((x0, y0, x1, y1)) > 0
        assert not (drawn & ~mask).any()


def test_box_mask_refuses_an_empty_or_outside_box():
    with pytest.raises(ValueError, match="x0 < x1"):
        inpaint.box_mask((8, 8, 8, 16))
    with pytest.raises(ValueError):
        inpaint.box_mask((0, 0, 40, 8))


def test_training_masks_follow_the_shares():
    _, _, scenes = world.make_dataset(2000, seed=inpaint.DATA_SEED)
    masks, kinds = inpaint.training_masks(scenes, inpaint.DATA_SEED)
    assert masks.shape == (2000, world.SIZE, world.SIZE)
    assert set(np.unique(masks)) <= {0.0, 1.0}
    for kind, share in inpaint.MASK_KINDS.items():
        assert abs(kinds.count(kind) / len(kinds) - share) < 0.05, (kind, kinds.count(kind))


def test_load_inpaint_refuses_a_folder_without_its_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="conv_in.safetensors"):
        inpaint.load_inpaint(tmp_path)


def test_training_changes_only_conv_in_and_the_lora_and_the_files_load_back(base, tmp_path):
    torch.set_num_threads(1)
    summary = inpaint.train_inpaint(tmp_path, seed=0, steps=3, threads=1)
    assert len(summary["losses"]) == 3 and all(np.isfinite(summary["losses"]))
    pipe = inpaint.load_inpaint(tmp_path, base=base)
    assert pipe.unet.config.in_channels == 9 and pipe.get_active_adapters()
    before = inpaint.inpainting_unet(finetune.load_base().unet).state_dict()
    after = {k.replace(".base_layer", ""): v for k, v in pipe.unet.state_dict().items() if "lora_" not in k}
    changed = {k for k, v in before.items() if not torch.equal(v, after[k])}
    assert changed == {"conv_in.weight", "conv_in.bias"}, changed  # every other base weight stays frozen
    assert summary["trainable_parameters"] == sum(
        p.numel() for n, p in pipe.unet.named_parameters() if "lora_" in n or n.startswith("conv_in"))


def test_the_command_refuses_bad_input(capsys):
    with pytest.raises(SystemExit):
        toy_main(["train-inpaint"])  # --out is required
    with pytest.raises(ValueError, match="steps"):
        inpaint.train_inpaint(None, steps=0)
