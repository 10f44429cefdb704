"""helpers.gpu: validation, refusals and what optimize applies, on the tiny SD 1.5 pipeline (CPU)."""

import sys

import pytest
import torch

import helpers
from helpers import gpu, pipelines


@pytest.fixture
def ctx(process_state):
    return helpers.setup(profile="tiny", seed=0, device="cpu")


@pytest.fixture
def pipe(ctx):
    return pipelines.load("sd15", ctx)


def image(pipe, ctx, size=16):
    return pipe("a", num_inference_steps=2, height=size, width=size, generator=ctx.generator(),
                output_type="np").images


def test_validation(pipe, ctx):
    with pytest.raises(ValueError, match="goal must be one of vanilla, speed, memory, balanced"):
        gpu.optimize(pipe, ctx, goal="fast")
    with pytest.raises(ValueError, match="unknown option 'channel_last'.*Did you mean 'channels_last'"):
        gpu.optimize(pipe, ctx, goal="vanilla", channel_last=True)
    with pytest.raises(TypeError, match="option 'fuse_qkv' must be bool"):
        gpu.optimize(pipe, ctx, goal="vanilla", fuse_qkv=1)
    with pytest.raises(ValueError, match="option 'compile': unknown key 'modes'"):
        gpu.optimize(pipe, ctx, goal="vanilla", compile={"modes": "default"})
    with pytest.raises(TypeError, match="Context"):
        gpu.optimize(pipe, None)
    with pytest.raises(ValueError, match="option 'attention': unknown 'xla'"):
        gpu.optimize(pipe, ctx, goal="vanilla", attention="xla")


@pytest.mark.parametrize(
    ("options", "option", "reason"),
    [
        ({"goal": "speed"}, "tf32", "CUDA setting"),
        ({"goal": "memory"}, "group_offload", "accelerator"),
        ({"goal": "balanced", "tf32": False}, "model_offload", "accelerator"),
        ({"goal": "vanilla", "model_offload": True, "group_offload": True}, "group_offload", "cannot be combined"),
        ({"goal": "vanilla", "compile": {"mode": "reduce-overhead"}}, "compile", "CUDA graphs"),
        ({"goal": "vanilla", "compile": {"mode": "default", "backend": "eager"}}, "compile", "inductor setting"),
        ({"goal": "vanilla", "vae_force_upcast": False}, "vae_force_upcast", "no fp16 VAE upcast path"),
        ({"goal": "vanilla", "attention": "native"}, "attention", "would not reach"),
        ({"goal": "vanilla", "attention": "eager", "fuse_qkv": True}, "fuse_qkv", "would undo"),
        ({"goal": "vanilla", "sequential_offload": True, "compile": True}, "compile", "breaks the graph"),
        # checked before the CUDA refusals: fullgraph=True raises at the hooks' compiler-disabled weight moves
        ({"goal": "speed", "tf32": False, "model_offload": True}, "compile", "model offload's hook"),
        ({"goal": "vanilla", "group_offload": True, "compile": {"fullgraph": True}}, "compile", "group offload's hooks"),
        ({"goal": "memory", "compile": {"fullgraph": True, "regional": True}}, "compile", "every leaf module"),
        # a regional compile's blocks hold no model offload hook: refused only for the CPU
        ({"goal": "vanilla", "model_offload": True, "compile": {"fullgraph": True, "regional": True}},
         "model_offload", "offloads only on CUDA"),
        ({"goal": "vanilla", "model_offload": True, "compile": True}, "model_offload", "offloads only on CUDA"),
    ],
)
def test_refusals_leave_the_pipeline_untouched(pipe, ctx, options, option, reason):
    before = type(next(iter(pipe.unet.attn_processors.values()))).__name__
    with pytest.raises(gpu.OptionError, match=reason) as caught:
        gpu.optimize(pipe, ctx, **options)
    assert caught.value.option == option
    assert type(next(iter(pipe.unet.attn_processors.values()))).__name__ == before
    assert not pipe.vae.use_slicing and not pipe.vae.use_tiling


def test_without_attention_backends_sdpa_and_eager_apply_and_a_backend_name_is_refused(pipe, ctx, monkeypatch):
    # diffusers < 0.35 has no models/attention_dispatch.py: the held-back 0.34.0 of the claims matrix
    # stopped the GPU chapter here when optimize() imported it for attention="sdpa"
    monkeypatch.setitem(sys.modules, "diffusers.models.attention_dispatch", None)
    for attention in gpu.ATTENTION:
        assert gpu.optimize(pipe, ctx, goal="vanilla", attention=attention).applied == {"attention": attention}
    with pytest.raises(gpu.OptionError, match="has no attention backends") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla", attention="native")
    assert caught.value.option == "attention"


def test_sdpa_vae_and_fused_qkv_match_the_baseline(pipe, ctx):
    baseline = image(pipe, ctx, 32)
    report = gpu.optimize(pipe, ctx, goal="vanilla", fuse_qkv=True, channels_last=True,
                          vae_slicing=True, vae_tiling=True)
    assert list(report.applied) == ["attention", "fuse_qkv", "channels_last", "vae_slicing", "vae_tiling"]
    assert pipe.vae.use_slicing and pipe.vae.use_tiling
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"FusedAttnProcessor2_0"}
    assert abs(image(pipe, ctx, 32) - baseline).max() < 1e-4


def test_placement_under_sequential_offload_on_the_cpu(pipe, ctx):
    # the call enable_sequential_cpu_offload makes for each model (pipeline_utils.py L1359),
    # with the CPU as execution device: weights sit on `meta` between calls
    from accelerate import cpu_offload

    baseline = image(pipe, ctx)
    cpu_offload(pipe.unet, "cpu", offload_buffers=True)
    assert gpu.placement(pipe)["unet"] == "meta"
    # 'meta' is where the parameters point: accelerate keeps their values in a CPU copy (placement's docstring)
    kept = pipe.unet.conv_in._hf_hook.weights_map["weight"]
    assert kept.device.type == "cpu" and kept.shape == pipe.unet.conv_in.weight.shape
    assert (image(pipe, ctx) == baseline).all()
    assert gpu.placement(pipe)["unet"] == "meta"


def test_pipeline_sequential_offload_fails_on_the_cpu(pipe, ctx):
    # diffusers refuses only when no device is given (L1325-L1327); with device="cpu" the hooks go
    # on, and accelerate 1.15's post-forward fails on the text encoder (accelerate/utils/modeling.py)
    pipe.enable_sequential_cpu_offload(device="cpu")
    assert set(gpu.placement(pipe).values()) == {"meta"}
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        image(pipe, ctx)


def test_compile_counts_graphs(pipe, ctx):
    torch._dynamo.reset()
    report = gpu.optimize(pipe, ctx, goal="vanilla", compile={"backend": "eager", "regional": True})
    counts = []
    for size in (16, 24, 32):
        image(pipe, ctx, size)
        counts.append(report.compile_counter.graphs)
    assert counts == [1, 2, 2]
    torch._dynamo.reset()


def test_fuse_qkv_refuses_a_vae_that_is_not_autoencoder_kl(pipe, ctx):
    # pipe.fuse_qkv_projections() fuses the UNet, then raises for any other VAE (pipeline_utils.py L2327-L2332)
    from diffusers import AutoencoderTiny

    pipe.vae = AutoencoderTiny(encoder_block_out_channels=(8, 8), decoder_block_out_channels=(8, 8),
                               num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1), latent_channels=4)
    with pytest.raises(gpu.OptionError, match="AutoencoderTiny") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla", fuse_qkv=True)
    assert caught.value.option == "fuse_qkv"
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"AttnProcessor2_0"}


def test_attention_refuses_to_replace_custom_processors(pipe, ctx):
    from diffusers.models.attention_processor import AttnProcessor2_0

    class Custom(AttnProcessor2_0):
        pass

    pipe.unet.set_attn_processor(Custom())
    with pytest.raises(gpu.OptionError, match="Custom") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla")
    assert caught.value.option == "attention"
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"Custom"}
    assert gpu.optimize(pipe, ctx, goal="vanilla", attention=False).applied == {}


def test_fuse_qkv_refuses_to_replace_custom_processors(pipe, ctx):
    # pipe.fuse_qkv_projections() puts FusedAttnProcessor2_0 on every attention whatever attention= says
    # (pipeline_utils.py L2327-L2336)
    from diffusers.models.attention_processor import AttnProcessor2_0

    class Custom(AttnProcessor2_0):
        pass

    pipe.unet.set_attn_processor(Custom())
    with pytest.raises(gpu.OptionError, match="fuse_qkv_projections.*Custom.*pass fuse_qkv=False") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla", attention=False, fuse_qkv=True)
    assert caught.value.option == "fuse_qkv"
    with pytest.raises(gpu.OptionError, match="attention=False and fuse_qkv=False") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla", fuse_qkv=True)
    assert caught.value.option == "attention"
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"Custom"}
    assert not any(hasattr(m, "to_qkv") or hasattr(m, "to_kv") for m in pipe.unet.modules())


def test_eager_over_a_directly_fused_unet_names_the_unets_own_unfuse(pipe, ctx):
    # fused through the model, not the pipeline: pipe.unfuse_qkv_projections() reads pipe.fusing_unet, which only
    # the pipeline's own fuse sets (pipeline_utils.py L2349), so the refusal must name the UNet's method
    from diffusers.models.attention_processor import FusedAttnProcessor2_0

    pipe.unet.fuse_qkv_projections()
    pipe.unet.set_attn_processor(FusedAttnProcessor2_0())
    with pytest.raises(gpu.OptionError, match=r"pipe\.unet\.unfuse_qkv_projections\(\) first") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla", attention="eager")
    assert caught.value.option == "attention"
    pipe.unet.unfuse_qkv_projections()  # the call it names works
    assert gpu.optimize(pipe, ctx, goal="vanilla", attention="eager").applied == {"attention": "eager"}


def test_a_later_recipe_keeps_fused_qkv_and_eager_over_it_is_refused(pipe, ctx):
    # every recipe sets attention="sdpa": set_attn_processor(AttnProcessor2_0()) over a fused pipeline would put
    # the unfused processor back and leave to_qkv/to_kv unused (the fusion undone, its memory kept), silently
    from helpers.models.flops import count_params

    pipe.fuse_qkv_projections()
    fused_params = count_params(pipe.unet)
    report = gpu.optimize(pipe, ctx, goal="vanilla")
    assert report.applied == {"attention": "sdpa"}
    for module in (pipe.unet, pipe.vae):
        assert {type(p).__name__ for p in module.attn_processors.values()} == {"FusedAttnProcessor2_0"}
    assert count_params(pipe.unet) == fused_params
    # unfusing restores the processors only: the note and the refusal must not call it a way back to the
    # unfused memory (unet_2d_condition.py L843-L850 never deletes to_qkv/to_kv)
    assert any("kept the unet's FusedAttnProcessor2_0" in note
               and "restores the unfused processors but keeps the fused to_qkv/to_kv weights" in note
               for note in report.notes), report.notes
    with pytest.raises(gpu.OptionError, match=r"fused.*unfuse_qkv_projections\(\) first") as caught:
        gpu.optimize(pipe, ctx, goal="vanilla", attention="eager")
    assert caught.value.option == "attention"
    assert "keeps the fused to_qkv/to_kv weights in memory" in caught.value.reason
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"FusedAttnProcessor2_0"}
    # the explicit call the refusal names: the processors come back, the fused weights stay
    pipe.unfuse_qkv_projections()
    assert count_params(pipe.unet) == fused_params
    assert gpu.optimize(pipe, ctx, goal="vanilla", attention="eager").applied == {"attention": "eager"}
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"AttnProcessor"}


def test_max_autotune_is_accepted_off_cuda(pipe, ctx):
    # inductor's max-autotune also sets triton.cudagraphs, which does nothing on the CPU, but its autotuning runs
    # there: a working mode, not a CUDA-only one (reduce-overhead, whose only setting is cudagraphs, stays refused)
    report = gpu.optimize(pipe, ctx, goal="vanilla", compile={"mode": "max-autotune"})
    assert report.applied["compile"] == {"mode": "max-autotune"}
    with pytest.raises(gpu.OptionError, match="only records CUDA graphs"):
        gpu.optimize(pipe, ctx, goal="vanilla", compile={"mode": "reduce-overhead"})


def test_sdpa_keeps_fused_processors_where_only_some_modules_are_fused(pipe, ctx):
    # the UNet's own fuse_qkv_projections() fuses the UNet only: the VAE gets AttnProcessor2_0, the UNet keeps its
    from diffusers.models.attention_processor import AttnProcessor

    pipe.vae.set_attn_processor(AttnProcessor())
    pipe.unet.fuse_qkv_projections()
    report = gpu.optimize(pipe, ctx, goal="vanilla")
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"FusedAttnProcessor2_0"}
    assert {type(p).__name__ for p in pipe.vae.attn_processors.values()} == {"AttnProcessor2_0"}
    assert [note for note in report.notes if "FusedAttnProcessor2_0" in note] == [
        next(note for note in report.notes if "unet" in note)]


def test_tf32_switch_keeps_legacy_and_new_reads_working():
    # torch 2.13: setting fp32_precision="tf32" (the new API) makes the legacy reads raise RuntimeError ("mix of
    # the legacy and new APIs"); _set_tf32 goes through allow_tf32, after which both spellings read back, also
    # over a user's opt-out made with the new API
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = matmul.allow_tf32, cudnn.allow_tf32
    try:
        if hasattr(cudnn, "conv"):  # torch >= 2.9
            cudnn.conv.fp32_precision = "ieee"
        report = gpu.Report(goal="speed")
        gpu._set_tf32(report)
        assert matmul.allow_tf32 and cudnn.allow_tf32
        assert torch.get_float32_matmul_precision() == "high"
        if hasattr(cudnn, "conv"):
            assert matmul.fp32_precision == cudnn.conv.fp32_precision == cudnn.rnn.fp32_precision == "tf32"
        assert any("allow_tf32" in note and "process-wide" in note for note in report.notes), report.notes
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = saved
    assert (matmul.allow_tf32, cudnn.allow_tf32) == saved  # the legacy reads still work after the restore
