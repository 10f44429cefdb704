"""The full-size models built on meta (helpers.models.full_size) and the shipped configs they come from."""

import inspect

import pytest
import torch

from helpers.models import flops, full_size, shipped_configs


@pytest.mark.parametrize("name", ["sd15-unet", "sdxl-unet"])
def test_unet_configs_give_the_published_parameter_counts(name):
    assert flops.count_params(full_size.build(name)) == shipped_configs.PUBLISHED_PARAMS[name]


def test_vae_config_gives_the_published_parameter_count():
    assert flops.count_params(full_size.build("sd15-vae-decoder")) == shipped_configs.PUBLISHED_PARAMS["sd-vae"]


def test_wuerstchen_configs_are_the_class_defaults_where_the_hub_uses_them():
    from diffusers.pipelines.deprecated.wuerstchen import PaellaVQModel, WuerstchenDiffNeXt

    for cls, config in ((WuerstchenDiffNeXt, shipped_configs.WUERSTCHEN_DECODER_CONFIG), (PaellaVQModel, shipped_configs.WUERSTCHEN_VQGAN_CONFIG)):
        defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items() if k != "self"}
        assert defaults == config


def test_wuerstchen_pipeline_constants_are_the_pipeline_defaults():
    from diffusers import WuerstchenDecoderPipeline, WuerstchenPriorPipeline

    prior = inspect.signature(WuerstchenPriorPipeline.__init__).parameters["resolution_multiple"].default
    decoder = inspect.signature(WuerstchenDecoderPipeline.__init__).parameters["latent_dim_scale"].default
    assert (prior, decoder) == (shipped_configs.WUERSTCHEN_RESOLUTION_MULTIPLE, shipped_configs.WUERSTCHEN_LATENT_DIM_SCALE)


def test_wuerstchen_latent_sizes_follow_the_paper():
    # 24x24 Stage C latents for 1024² images (the paper's 42:1), 4x256x256 Stage B latents
    assert full_size.wuerstchen_latent_sizes(1024, 1024) == {"stage_c": (24, 24), "stage_b": (256, 256), "image": (1024, 1024)}
    assert full_size.wuerstchen_latent_sizes(512, 768) == {"stage_c": (12, 18), "stage_b": (128, 192), "image": (512, 768)}


def test_building_on_meta_skips_and_restores_weight_init():
    from diffusers.pipelines.deprecated.wuerstchen import WuerstchenDiffNeXt

    original = WuerstchenDiffNeXt.__dict__["_init_weights"]
    model = full_size.build("wuerstchen-decoder")
    assert WuerstchenDiffNeXt.__dict__["_init_weights"] is original
    assert all(p.is_meta for p in model.parameters()) and not model.training


def test_forward_cost_of_stage_a_is_linear_in_batch_and_shaped_like_the_image():
    model = full_size.build("wuerstchen-vqgan")
    one = full_size.forward_cost("wuerstchen-vqgan", 512, 512, model=model)
    two = full_size.forward_cost("wuerstchen-vqgan", 512, 512, batch=2, model=model)
    assert two.flops == 2 * one.flops > 0
    assert one.output_shape == torch.Size([1, 3, 512, 512])
    # the decoder half only: the encoder and the codebook are not used by decode()
    assert one.params_used < flops.count_params(model)


def test_forward_cost_rejects_bad_names_and_sizes():
    with pytest.raises(ValueError, match="unknown model 'sd15'; accepted: wuerstchen-prior, "):
        full_size.forward_cost("sd15")
    with pytest.raises(ValueError, match="sd15-unet: height must be a multiple of 64, got 500"):
        full_size.forward_cost("sd15-unet", 500, 512)
    with pytest.raises(ValueError, match=r"width \(pixels\) must be an int >= 1"):
        full_size.forward_cost("sdxl-vae-decoder", 1024, -8)
    with pytest.raises(ValueError, match="batch must be an int >= 1"):
        full_size.forward_cost("wuerstchen-vqgan", batch=0)
    with pytest.raises(ValueError, match=r"Stage B latent of \(138, 138\).*multiple of 16"):
        full_size.forward_cost("wuerstchen-decoder", 544, 544)


def test_pixart_sigma_transformer_is_built_from_its_shipped_config_and_called_as_the_pipeline_calls_it():
    from diffusers import PixArtTransformer2DModel

    spec = full_size.PIXART_SIGMA_TRANSFORMER
    model = spec.build()
    assert isinstance(model, PixArtTransformer2DModel) and all(p.is_meta for p in model.parameters())
    assert {k: model.config[k] for k in shipped_configs.PIXART_SIGMA_TRANSFORMER_CONFIG} == shipped_configs.PIXART_SIGMA_TRANSFORMER_CONFIG
    assert spec.source == "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS" and spec.size_multiple == 16
    assert spec.name not in full_size.MODEL_NAMES  # FULL_SIZE is what the Würstchen chapter records whole
    method, args, kwargs = spec.inputs(1024, 768, 1)
    cost = flops.count_flops(getattr(model, method), args, kwargs)
    # learned sigma: 4 latent channels in, 8 out (noise and variance), at the latent's size
    assert cost.output_shape == torch.Size([1, 8, 128, 96]) and cost.flops > 0


# --- the shipped configs ------------------------------------------------------------------------


def test_every_shipped_config_names_its_checkpoint():
    configs = {n for n, v in vars(shipped_configs).items() if n.isupper() and isinstance(v, dict)}
    assert configs - {"CHECKPOINTS", "PUBLISHED_PARAMS", "HUB_IDS"} == set(shipped_configs.CHECKPOINTS)
    assert shipped_configs.checkpoint("SDXL_UNET_CONFIG").startswith("stabilityai/stable-diffusion-xl-base-1.0")
    with pytest.raises(ValueError, match="no shipped config called 'SDXL_UNET'; accepted: SD15_SCHEDULER"):
        shipped_configs.checkpoint("SDXL_UNET")
    with pytest.raises(TypeError, match="name must be"):
        shipped_configs.checkpoint(None)


def test_every_model_id_is_written_once_and_read_by_the_registry():
    from helpers import pipelines

    assert set(shipped_configs.HUB_IDS.values()) == {row["model_id"] for row in pipelines.registry()}
    assert set(shipped_configs.HUB_IDS) == set(pipelines.MODEL_IDS) - {"wuerstchen"} | set(pipelines.CHECKPOINTS)
    assert all(pipelines.model_id(key) == hub_id for key, hub_id in shipped_configs.HUB_IDS.items())


def test_full_size_pipelines_are_built_here_and_refuse_other_families():
    from helpers.models import mirror

    assert mirror.components is full_size.pipeline_components
    with pytest.raises(ValueError, match="name must be one of sd15, sdxl"):
        full_size.pipeline_components("pixart-sigma")
    with pytest.raises(TypeError, match="name must be one of sd15, sdxl"):
        full_size.pipeline_components(None)


def test_scheduler_configs_with_class_name_are_the_bare_files_plus_the_class():
    assert shipped_configs.SD15_SCHEDULER_CONFIG == {"_class_name": "PNDMScheduler", **shipped_configs.SD15_SCHEDULER}
    sdxl = shipped_configs.SDXL_SCHEDULER_CONFIG
    assert sdxl == {"_class_name": "EulerDiscreteScheduler", **shipped_configs.SDXL_SCHEDULER}
