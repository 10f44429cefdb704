import inspect

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import compute

aten = torch.ops.aten


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # the models here are tiny: a second thread only adds waiting, a lot of it on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_unet(**extra):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    config = dict(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, norm_num_groups=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=12, attention_head_dim=4,
    )  # fmt: skip
    config.update(extra)
    return UNet2DConditionModel(**config).eval()


# --- count_flops --------------------------------------------------------------------------------


def test_linear_and_conv_flops_are_two_per_multiply_add():
    linear = torch.nn.Linear(7, 5)
    cost = compute.count_flops(linear, (torch.zeros(3, 7),))
    assert cost.flops == 2 * 3 * 7 * 5
    conv = torch.nn.Conv2d(4, 6, kernel_size=3, padding=1)
    cost = compute.count_flops(conv, (torch.zeros(2, 4, 10, 10),))
    assert cost.flops == 2 * (2 * 6 * 10 * 10) * (4 * 3 * 3)
    assert cost.output_shape == torch.Size([2, 6, 10, 10])
    assert cost.params_used == compute.count_params(conv) == 6 * 4 * 9 + 6


def test_attention_is_counted_on_the_cpu_too():
    # the fused CPU attention kernel is missing from the flop table; counting forces the math path
    q = torch.zeros(2, 3, 16, 8)
    cost = compute.count_flops(F.scaled_dot_product_attention, (q, q, q))
    assert cost.flops == 2 * (2 * 3 * 16 * 16 * 8) * 2  # QK^T and AV, each 2*b*h*s*s*d
    assert compute.count_flops(F.scaled_dot_product_attention, (q, q, q), reference=True).flops == cost.flops


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_fast_counter_agrees_with_flop_counter_mode_op_by_op(device):
    with torch.device(device):
        unet = tiny_unet(transformer_layers_per_block=2, use_linear_projection=True)
        args = (torch.zeros(2, 4, 8, 8), torch.tensor(10), torch.zeros(2, 5, 12))
    fast = compute.count_flops(unet, args)
    reference = compute.count_flops(unet, args, reference=True)
    assert fast.flops > 0
    assert fast == reference


def test_real_tensors_give_real_outputs_while_counting():
    unet = tiny_unet()
    args = (torch.randn(1, 4, 8, 8), torch.tensor(10), torch.randn(1, 5, 12))
    with torch.no_grad():
        expected = unet(*args).sample
    seen = []
    compute.count_flops(lambda *a: seen.append(unet(*a).sample), args)
    # the math attention kernel (used while counting) rounds differently from the fused one
    torch.testing.assert_close(seen[0], expected, rtol=1e-4, atol=1e-5)


def test_params_used_counts_only_modules_that_ran():
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL(block_out_channels=(8, 16), norm_num_groups=4, layers_per_block=1,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)  # fmt: skip
    cost = compute.count_flops(vae.decode, (torch.zeros(1, 4, 8, 8, device="meta"),))
    assert cost.params_used == compute.count_params(vae.decoder) + compute.count_params(vae.post_quant_conv)
    assert cost.params_used < compute.count_params(vae)
    assert cost.output_shape == torch.Size([1, 3, 16, 16])


def test_count_flops_rejects_bad_arguments():
    with pytest.raises(TypeError, match="needs a callable"):
        compute.count_flops(3)
    with pytest.raises(TypeError, match="args must be a tuple"):
        compute.count_flops(torch.nn.Linear(2, 2), torch.zeros(2))
    with pytest.raises(TypeError, match="needs a torch.nn.Module"):
        compute.count_params("unet")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        compute.count_flops(torch.nn.Linear(2, 2), (torch.zeros(1, 2),), model="unet")


def test_meta_shape_errors_still_come_from_the_kernel():
    a, b = torch.empty(2, 3, device="meta"), torch.empty(4, 5, device="meta")
    with pytest.raises(RuntimeError, match="must have same reduction dim"):  # the meta kernel's own words
        compute.count_flops(torch.mm, (a, b))
    with pytest.raises(RuntimeError, match="Attempting to broadcast a dimension of length 5"):
        compute.count_flops(torch.add, (a, b))


# --- the shape-only shortcuts reproduce the meta kernels exactly ---------------------------------


@st.composite
def layouts(draw):
    """A meta tensor of random shape with a random layout: contiguous, permuted, sliced or chunked."""
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    base = torch.empty(shape, device="meta")
    kind = draw(st.sampled_from(["contiguous", "permuted", "sliced", "chunked", "expanded"]))
    if kind == "permuted":
        order = draw(st.permutations(range(len(shape))))
        return base.permute(*order)
    if kind == "sliced":
        return torch.empty([*shape[:-1], shape[-1] * 2], device="meta")[..., ::2]
    if kind == "chunked":
        return torch.empty([*shape[:-1], shape[-1] * 2], device="meta").chunk(2, dim=-1)[1]
    if kind == "expanded":
        return torch.empty([1, *shape[1:]], device="meta").expand(*shape)
    return base


def assert_same_layout(shortcut, real):
    shortcut = shortcut if isinstance(shortcut, tuple) else (shortcut,)
    real = real if isinstance(real, tuple) else (real,)
    assert len(shortcut) == len(real)
    for mine, theirs in zip(shortcut, real):
        assert (mine.shape, mine.stride(), mine.dtype) == (theirs.shape, theirs.stride(), theirs.dtype)


@settings(max_examples=60, deadline=None)
@given(x=layouts(), op=st.sampled_from([aten.gelu.default, aten.silu.default]))
def test_unary_shortcuts_match_the_meta_kernel(x, op):
    out = compute._SHAPE_ONLY[op](x)
    if out is not None:  # None: left to the kernel
        assert_same_layout(out, op(x))


@settings(max_examples=150, deadline=None)
@given(
    x=layouts(),
    op=st.sampled_from([aten.add.Tensor, aten.sub.Tensor, aten.mul.Tensor, aten.div.Tensor]),
    other=st.sampled_from(["same", "last-dim", "scalar-tensor", "int-tensor", "int-self", "transposed", "bigger"]),
)
def test_binary_shortcuts_match_the_meta_kernel(x, op, other):
    b = {
        "same": lambda: torch.empty_like(x),
        "last-dim": lambda: torch.empty(x.shape[-1], device="meta"),
        "scalar-tensor": lambda: torch.tensor(2.0, device="meta"),
        "int-tensor": lambda: torch.ones(x.shape, dtype=torch.int64, device="meta"),
        "int-self": lambda: "int",
        "transposed": lambda: torch.empty(tuple(reversed(x.shape)), device="meta").permute(*reversed(range(x.dim()))),
        "bigger": lambda: torch.empty((3, *x.shape), device="meta"),
    }[other]()
    if isinstance(b, str):  # integer operands: true division promotes to float
        x, b = x.to(torch.int64), x.to(torch.int32)
    for a, c in ((x, b), (b, x)):
        out = compute._SHAPE_ONLY[op](a, c)
        if out is not None:
            assert_same_layout(out, op(a, c))


@settings(max_examples=40, deadline=None)
@given(x=layouts(), scalar=st.sampled_from([2, 0.5, True]))
def test_scalar_shortcuts_match_the_meta_kernel(x, scalar):
    for op in (aten.add.Scalar, aten.mul.Scalar, aten.div.Scalar, aten.sub.Scalar):
        if op is aten.sub.Scalar and isinstance(scalar, bool):
            continue  # subtraction of bools is an error in the kernel as well
        out = compute._SHAPE_ONLY[op](x, scalar)
        if out is not None:
            assert_same_layout(out, op(x, scalar))


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "permuted"])
def test_norm_and_softmax_shortcuts_match_the_meta_kernel(layout):
    x = torch.empty(2, 8, 4, 6, device="meta")
    x = {"contiguous": x, "channels_last": x.contiguous(memory_format=torch.channels_last), "permuted": x.permute(0, 2, 3, 1)}[layout]
    n, c = x.shape[0], x.shape[1]
    group_norm = (x, None, None, n, c, x[0, 0].numel(), 4, 1e-5)
    layer_norm = (x, [x.shape[-1]], None, None, 1e-6)
    for op, args in (
        (aten.native_group_norm.default, group_norm),
        (aten.native_layer_norm.default, layer_norm),
        (aten.native_layer_norm.default, (x, list(x.shape[-2:]), None, None, 1e-6)),
        (aten._safe_softmax.default, (x, -1)),
    ):
        out = compute._SHAPE_ONLY[op](*args)
        if out is not None:
            assert_same_layout(out, op(*args))


@pytest.mark.parametrize(
    "op,a,b",
    [
        (aten.mm.default, (3, 4), (4, 5)),
        (aten.bmm.default, (2, 3, 4), (2, 4, 5)),
    ],
)
def test_matmul_shortcuts_match_and_leave_errors_to_the_kernel(op, a, b):
    x, y = torch.empty(a, device="meta"), torch.empty(b, device="meta")
    assert_same_layout(compute._SHAPE_ONLY[op](x, y), op(x, y))
    assert compute._SHAPE_ONLY[op](x, y.transpose(-1, -2)[..., :3]) is None  # mismatched: the kernel raises
    bias = torch.empty(b[-1], device="meta")
    add_op = {aten.mm.default: aten.addmm.default, aten.bmm.default: aten.baddbmm.default}[op]
    assert_same_layout(compute._SHAPE_ONLY[add_op](bias, x, y), add_op(bias, x, y))
    assert compute._SHAPE_ONLY[add_op](torch.empty(7, device="meta"), x, y) is None  # a bias that cannot broadcast


# --- the full-size models -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sd15-unet", "sdxl-unet"])
def test_unet_configs_give_the_published_parameter_counts(name):
    assert compute.count_params(compute.build(name)) == compute.PUBLISHED_PARAMS[name]


def test_vae_config_gives_the_published_parameter_count():
    assert compute.count_params(compute.build("sd15-vae-decoder")) == compute.PUBLISHED_PARAMS["sd-vae"]


def test_wuerstchen_configs_are_the_class_defaults_where_the_hub_uses_them():
    from diffusers.pipelines.deprecated.wuerstchen import PaellaVQModel, WuerstchenDiffNeXt

    for cls, config in ((WuerstchenDiffNeXt, compute.WUERSTCHEN_DECODER_CONFIG), (PaellaVQModel, compute.WUERSTCHEN_VQGAN_CONFIG)):
        defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items() if k != "self"}
        assert defaults == config


def test_wuerstchen_pipeline_constants_are_the_pipeline_defaults():
    from diffusers import WuerstchenDecoderPipeline, WuerstchenPriorPipeline

    prior = inspect.signature(WuerstchenPriorPipeline.__init__).parameters["resolution_multiple"].default
    decoder = inspect.signature(WuerstchenDecoderPipeline.__init__).parameters["latent_dim_scale"].default
    assert (prior, decoder) == (compute.WUERSTCHEN_RESOLUTION_MULTIPLE, compute.WUERSTCHEN_LATENT_DIM_SCALE)


def test_wuerstchen_latent_sizes_follow_the_paper():
    # 24x24 Stage C latents for 1024² images (the paper's 42:1), 4x256x256 Stage B latents
    assert compute.wuerstchen_latent_sizes(1024, 1024) == {"stage_c": (24, 24), "stage_b": (256, 256), "image": (1024, 1024)}
    assert compute.wuerstchen_latent_sizes(512, 768) == {"stage_c": (12, 18), "stage_b": (128, 192), "image": (512, 768)}


def test_building_on_meta_skips_and_restores_weight_init():
    from diffusers.pipelines.deprecated.wuerstchen import WuerstchenDiffNeXt

    original = WuerstchenDiffNeXt.__dict__["_init_weights"]
    model = compute.build("wuerstchen-decoder")
    assert WuerstchenDiffNeXt.__dict__["_init_weights"] is original
    assert all(p.is_meta for p in model.parameters()) and not model.training


def test_forward_cost_of_stage_a_is_linear_in_batch_and_shaped_like_the_image():
    model = compute.build("wuerstchen-vqgan")
    one = compute.forward_cost("wuerstchen-vqgan", 512, 512, model=model)
    two = compute.forward_cost("wuerstchen-vqgan", 512, 512, batch=2, model=model)
    assert two.flops == 2 * one.flops > 0
    assert one.output_shape == torch.Size([1, 3, 512, 512])
    # the decoder half only: the encoder and the codebook are not used by decode()
    assert one.params_used < compute.count_params(model)


def test_forward_cost_rejects_bad_names_and_sizes():
    with pytest.raises(ValueError, match="unknown model 'sd15'; accepted: wuerstchen-prior, "):
        compute.forward_cost("sd15")
    with pytest.raises(ValueError, match="sd15-unet: height must be a multiple of 64, got 500"):
        compute.forward_cost("sd15-unet", 500, 512)
    with pytest.raises(ValueError, match=r"width \(pixels\) must be an int >= 1"):
        compute.forward_cost("sdxl-vae-decoder", 1024, -8)
    with pytest.raises(ValueError, match="batch must be an int >= 1"):
        compute.forward_cost("wuerstchen-vqgan", batch=0)
    with pytest.raises(ValueError, match=r"Stage B latent of \(138, 138\).*multiple of 16"):
        compute.forward_cost("wuerstchen-decoder", 544, 544)
