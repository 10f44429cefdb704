"""The configs of real checkpoints as they ship on the Hub: one home, plain data.

Each dict is one `config.json` (or `scheduler_config.json`) of a real checkpoint, minus the
bookkeeping keys (`_class_name`, `_diffusers_version`) unless a dict's comment says otherwise;
`CHECKPOINTS` names the file each one comes from. The tiny pipelines (`helpers.models.tiny`), the
full-size models on the meta device (`helpers.models.full_size`), the random-weight mirror
(`helpers.models.mirror`) and the scheduler chapters all read them from here. Treat every dict as
read-only: copy it (`dict(...)`) before editing.
"""

from __future__ import annotations

# what a reader is meant to use (the reference page lists these)
__all__ = [
    "SD15_SCHEDULER", "SDXL_SCHEDULER", "PIXART_SIGMA_SCHEDULER", "SD15_SCHEDULER_CONFIG",
    "SDXL_SCHEDULER_CONFIG", "WUERSTCHEN_PRIOR_CONFIG", "WUERSTCHEN_DECODER_CONFIG",
    "WUERSTCHEN_VQGAN_CONFIG", "SD15_UNET_CONFIG", "SDXL_UNET_CONFIG", "SD_VAE_CONFIG",
    "PIXART_SIGMA_TRANSFORMER_CONFIG", "WUERSTCHEN_RESOLUTION_MULTIPLE", "WUERSTCHEN_LATENT_DIM_SCALE",
    "HUB_IDS", "checkpoint",
]

# --- schedulers ---------------------------------------------------------------------------------
# Exactly the keys the real files hold: keys a file leaves out are what `from_config` records in
# `_use_default_values`, so keeping the real key sets keeps the scheduler chapter's story true in
# the tiny profile.

# stable-diffusion-v1-5, scheduler/scheduler_config.json (PNDM/PLMS). `clip_sample` is not a PNDM
# argument; diffusers keeps it as a hidden key.
SD15_SCHEDULER = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}
# stable-diffusion-xl-base-1.0, scheduler/scheduler_config.json (EulerDiscreteScheduler).
SDXL_SCHEDULER = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sample_max_value": 1.0,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "trained_betas": None,
    "use_karras_sigmas": False,
}
# PixArt-Sigma-XL-2-1024-MS's scheduler, DPMSolverMultistepScheduler: its sampling settings
# (DPM-Solver++ 2M over linear betas, 1e-4 .. 2e-2), not checked key for key against the file.
# The pipeline, not the scheduler, drops the learned-variance half of the transformer's output.
PIXART_SIGMA_SCHEDULER = {
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "beta_start": 0.0001,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "solver_order": 2,
    "algorithm_type": "dpmsolver++",
}

# The same two files with their `_class_name`, as `pipe.scheduler.config` carries it. Build the live
# scheduler with `PNDMScheduler.from_config(dict(SD15_SCHEDULER_CONFIG))`: the keys absent here
# (timestep_spacing, prediction_type) must stay absent, as on the Hub, because `from_config`
# treats absent and present keys differently.
SD15_SCHEDULER_CONFIG = {"_class_name": "PNDMScheduler", **SD15_SCHEDULER}
SDXL_SCHEDULER_CONFIG = {"_class_name": "EulerDiscreteScheduler", **SDXL_SCHEDULER}

# --- denoisers and autoencoders -----------------------------------------------------------------
# Minus keys equal to the class default as well. Tests rebuild the classes from these and check
# the published parameter counts.

# warp-ai/wuerstchen-prior, prior/config.json (Stage C, 993.6 M parameters).
WUERSTCHEN_PRIOR_CONFIG = dict(c_in=16, c=1536, c_cond=1280, c_r=64, depth=32, nhead=24, dropout=0.1)

# warp-ai/wuerstchen, decoder/config.json (Stage B): identical to the class defaults in
# diffusers 0.42.1, written out so that a change of defaults cannot change this chapter silently.
WUERSTCHEN_DECODER_CONFIG = dict(
    c_in=4, c_out=4, c_r=64, patch_size=2, c_cond=1024,
    c_hidden=[320, 640, 1280, 1280], nhead=[-1, 10, 20, 20], blocks=[4, 4, 14, 4],
    level_config=["CT", "CTA", "CTA", "CTA"], inject_effnet=[False, True, True, True],
    effnet_embd=16, clip_embd=1024, kernel_size=3, dropout=0.1,
)  # fmt: skip

# warp-ai/wuerstchen, vqgan/config.json (Stage A): the PaellaVQModel defaults.
WUERSTCHEN_VQGAN_CONFIG = dict(
    in_channels=3, out_channels=3, up_down_scale_factor=2, levels=2, bottleneck_blocks=12,
    embed_dim=384, latent_channels=4, num_vq_embeddings=8192, scale_factor=0.3764,
)  # fmt: skip

# runwayml/stable-diffusion-v1-5 (now stable-diffusion-v1-5/stable-diffusion-v1-5), unet/config.json.
SD15_UNET_CONFIG = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[320, 640, 1280, 1280],
    down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    attention_head_dim=8, cross_attention_dim=768,
)  # fmt: skip

# stabilityai/stable-diffusion-xl-base-1.0, unet/config.json.
SDXL_UNET_CONFIG = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[320, 640, 1280],
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    attention_head_dim=[5, 10, 20], transformer_layers_per_block=[1, 2, 10], cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816,
)  # fmt: skip

# vae/config.json of both SD 1.5 and SDXL base: the same architecture (they differ in
# sample_size and scaling_factor, which do not change the network).
SD_VAE_CONFIG = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
    block_out_channels=[128, 256, 512, 512],
    down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
)  # fmt: skip

# Published parameter counts (Hub safetensors headers / model cards), checked by the tests.
PUBLISHED_PARAMS = {
    "sd15-unet": 859_520_964,
    "sdxl-unet": 2_567_463_684,
    "sd-vae": 83_653_863,
}

# PixArt-Sigma-XL-2-1024-MS, transformer: the "PixArt XL/2" block of diffusers'
# scripts/convert_pixart_sigma_to_diffusers.py at image_size=1024 (sample_size = 1024 // 8,
# interpolation_scale 2, no micro-conditioning). Its VAE is SDXL's (same script).
PIXART_SIGMA_TRANSFORMER_CONFIG = dict(
    sample_size=128, num_layers=28, attention_head_dim=72, in_channels=4, out_channels=8,
    patch_size=2, attention_bias=True, num_attention_heads=16, cross_attention_dim=1152,
    activation_fn="gelu-approximate", num_embeds_ada_norm=1000, norm_type="ada_norm_single",
    norm_elementwise_affine=False, norm_eps=1e-6, caption_channels=4096, interpolation_scale=2,
    use_additional_conditions=False,
)  # fmt: skip

# --- pipelines ----------------------------------------------------------------------------------

# Würstchen pipeline configs (model_index.json of warp-ai/wuerstchen-prior and warp-ai/wuerstchen,
# equal to the pipelines' __init__ defaults): image side / 42.67 = Stage C side; Stage C side
# * 10.67 = Stage B side.
WUERSTCHEN_RESOLUTION_MULTIPLE = 42.67
WUERSTCHEN_LATENT_DIM_SCALE = 10.67

# --- where they ship ------------------------------------------------------------------------------

# The Hub model id of every checkpoint the book reads, by registry key: each id is written here and
# nowhere else. helpers.pipelines keeps the registry around them (MODEL_IDS, CHECKPOINTS: the
# classes, the files read, the chapters that read each); the configs' sources below name them too.
HUB_IDS = {
    "sd15": "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "sdxl": "stabilityai/stable-diffusion-xl-base-1.0",
    "pixart-sigma": "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS",
    "wuerstchen-prior": "warp-ai/wuerstchen-prior",
    "wuerstchen-decoder": "warp-ai/wuerstchen",
    "unclip": "kakaobrain/karlo-v1-alpha",
    "unclip-image-variation": "kakaobrain/karlo-v1-alpha-image-variations",
    "stable-unclip": "stabilityai/stable-diffusion-2-1-unclip-small",
    "stable-unclip-vit-h": "stabilityai/stable-diffusion-2-1-unclip",
    "ip-adapter-sd15": "h94/IP-Adapter",
    "sdxl-vae-fp16-fix": "madebyollin/sdxl-vae-fp16-fix",
    "stable-cascade-prior": "stabilityai/stable-cascade-prior",
    "stable-cascade": "stabilityai/stable-cascade",
}
_SD15, _SDXL, _PIXART = HUB_IDS["sd15"], HUB_IDS["sdxl"], HUB_IDS["pixart-sigma"]
_PRIOR, _DECODER = HUB_IDS["wuerstchen-prior"], HUB_IDS["wuerstchen-decoder"]

# Where each config above comes from (Hub repository, file).
CHECKPOINTS = {
    "SD15_SCHEDULER": f"{_SD15}, scheduler/scheduler_config.json",
    "SDXL_SCHEDULER": f"{_SDXL}, scheduler/scheduler_config.json",
    "PIXART_SIGMA_SCHEDULER": f"{_PIXART}, scheduler (sampling settings only)",
    "SD15_SCHEDULER_CONFIG": f"{_SD15}, scheduler/scheduler_config.json",
    "SDXL_SCHEDULER_CONFIG": f"{_SDXL}, scheduler/scheduler_config.json",
    "WUERSTCHEN_PRIOR_CONFIG": f"{_PRIOR}, prior/config.json",
    "WUERSTCHEN_DECODER_CONFIG": f"{_DECODER}, decoder/config.json",
    "WUERSTCHEN_VQGAN_CONFIG": f"{_DECODER}, vqgan/config.json",
    "SD15_UNET_CONFIG": f"{_SD15}, unet/config.json",
    "SDXL_UNET_CONFIG": f"{_SDXL}, unet/config.json",
    "SD_VAE_CONFIG": f"{_SD15} and {_SDXL}, vae/config.json",
    "PIXART_SIGMA_TRANSFORMER_CONFIG": f"{_PIXART}, transformer (diffusers' scripts/convert_pixart_sigma_to_diffusers.py)",
}


def checkpoint(name: str) -> str:
    """The Hub repository and file the config called `name` (e.g. "SD15_UNET_CONFIG") comes from.

    Refuses: a name that is not a str (TypeError) or not a config of this module (ValueError,
    listing them)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of a config here as a str, got {type(name).__name__}")
    if name not in CHECKPOINTS:
        raise ValueError(f"name: no shipped config called {name!r}; accepted: {', '.join(CHECKPOINTS)}")
    return CHECKPOINTS[name]
