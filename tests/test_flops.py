"""FLOP and parameter counting on the meta device (helpers.models.flops)."""

import inspect

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.models import flops
from types import SimpleNamespace
from helpers.models.flops import module_dtypes

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
    cost = flops.count_flops(linear, (torch.zeros(3, 7),))
    assert cost.flops == 2 * 3 * 7 * 5
    conv = torch.nn.Conv2d(4, 6, kernel_size=3, padding=1)
    cost = flops.count_flops(conv, (torch.zeros(2, 4, 10, 10),))
    assert cost.flops == 2 * (2 * 6 * 10 * 10) * (4 * 3 * 3)
    assert cost.output_shape == torch.Size([2, 6, 10, 10])
    assert cost.params_used == flops.count_params(conv) == 6 * 4 * 9 + 6


def test_attention_is_counted_on_the_cpu_too():
    # the fused CPU attention kernel is missing from the flop table; counting forces the math path
    q = torch.zeros(2, 3, 16, 8)
    cost = flops.count_flops(F.scaled_dot_product_attention, (q, q, q))
    assert cost.flops == 2 * (2 * 3 * 16 * 16 * 8) * 2  # QK^T and AV, each 2*b*h*s*s*d
    assert flops.count_flops(F.scaled_dot_product_attention, (q, q, q), reference=True).flops == cost.flops


def test_multihead_attention_is_counted_not_its_fast_path():
    # in inference nn.MultiheadAttention takes torch._native_multi_head_attention, outside the
    # counter's table: counted with it, the projections and the attention would be 0
    x = torch.randn(1, 16, 8)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    before = torch.backends.mha.get_fastpath_enabled()
    cost = flops.count_flops(lambda: mha(x, x, x, need_weights=False))
    projections = 2 * 16 * 8 * (3 * 8) + 2 * 16 * 8 * 8  # in (q, k, v) and out: 2 FLOPs per multiply-add
    attention = 2 * 2 * (2 * 16 * 16 * 4)  # QK^T and AV (2 FLOPs per multiply-add), 2 heads of width 4
    assert cost.flops == projections + attention, cost.by_op  # exact: integer counts
    assert torch.backends.mha.get_fastpath_enabled() == before  # the setting is restored
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True).eval()
    assert flops.count_flops(lambda: layer(x)).flops > cost.flops


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_fast_counter_agrees_with_flop_counter_mode_op_by_op(device):
    with torch.device(device):
        unet = tiny_unet(transformer_layers_per_block=2, use_linear_projection=True)
        args = (torch.zeros(2, 4, 8, 8), torch.tensor(10), torch.zeros(2, 5, 12))
    fast = flops.count_flops(unet, args)
    reference = flops.count_flops(unet, args, reference=True)
    assert fast.flops > 0
    assert fast == reference


def test_real_tensors_give_real_outputs_while_counting():
    unet = tiny_unet()
    args = (torch.randn(1, 4, 8, 8), torch.tensor(10), torch.randn(1, 5, 12))
    with torch.no_grad():
        expected = unet(*args).sample
    seen = []
    flops.count_flops(lambda *a: seen.append(unet(*a).sample), args)
    # the math attention kernel (used while counting) rounds differently from the fused one
    torch.testing.assert_close(seen[0], expected, rtol=1e-4, atol=1e-5)


def test_params_used_counts_only_modules_that_ran():
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL(block_out_channels=(8, 16), norm_num_groups=4, layers_per_block=1,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)  # fmt: skip
    cost = flops.count_flops(vae.decode, (torch.zeros(1, 4, 8, 8, device="meta"),))
    assert cost.params_used == flops.count_params(vae.decoder) + flops.count_params(vae.post_quant_conv)
    assert cost.params_used < flops.count_params(vae)
    assert cost.output_shape == torch.Size([1, 3, 16, 16])


def test_count_flops_rejects_bad_arguments():
    with pytest.raises(TypeError, match="needs a callable"):
        flops.count_flops(3)
    with pytest.raises(TypeError, match="args must be a tuple"):
        flops.count_flops(torch.nn.Linear(2, 2), torch.zeros(2))
    with pytest.raises(TypeError, match="needs a torch.nn.Module"):
        flops.count_params("unet")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        flops.count_flops(torch.nn.Linear(2, 2), (torch.zeros(1, 2),), model="unet")


def test_meta_shape_errors_still_come_from_the_kernel():
    a, b = torch.empty(2, 3, device="meta"), torch.empty(4, 5, device="meta")
    with pytest.raises(RuntimeError, match="must have same reduction dim"):  # the meta kernel's own words
        flops.count_flops(torch.mm, (a, b))
    with pytest.raises(RuntimeError, match="Attempting to broadcast a dimension of length 5"):
        flops.count_flops(torch.add, (a, b))


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
    out = flops._SHAPE_ONLY[op](x)
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
        out = flops._SHAPE_ONLY[op](a, c)
        if out is not None:
            assert_same_layout(out, op(a, c))


@settings(max_examples=40, deadline=None)
@given(x=layouts(), scalar=st.sampled_from([2, 0.5, True]))
def test_scalar_shortcuts_match_the_meta_kernel(x, scalar):
    for op in (aten.add.Scalar, aten.mul.Scalar, aten.div.Scalar, aten.sub.Scalar):
        if op is aten.sub.Scalar and isinstance(scalar, bool):
            continue  # subtraction of bools is an error in the kernel as well
        out = flops._SHAPE_ONLY[op](x, scalar)
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
        out = flops._SHAPE_ONLY[op](*args)
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
    assert_same_layout(flops._SHAPE_ONLY[op](x, y), op(x, y))
    assert flops._SHAPE_ONLY[op](x, y.transpose(-1, -2)[..., :3]) is None  # mismatched: the kernel raises
    bias = torch.empty(b[-1], device="meta")
    add_op = {aten.mm.default: aten.addmm.default, aten.bmm.default: aten.baddbmm.default}[op]
    assert_same_layout(flops._SHAPE_ONLY[add_op](bias, x, y), add_op(bias, x, y))
    assert flops._SHAPE_ONLY[add_op](torch.empty(7, device="meta"), x, y) is None  # a bias that cannot broadcast


# --- module_dtypes: the dtype each module of a pipeline holds its weights in ----------


def test_one_dtype_per_module_mixed_where_they_differ_and_non_modules_left_out():
    mixed = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2).half())
    pipe = SimpleNamespace(
        components={
            "unet": torch.nn.Linear(2, 2).to(torch.bfloat16),
            "vae": mixed,
            "activation": torch.nn.ReLU(),  # a module with no parameters
            "tokenizer": object(),
            "safety_checker": None,
        }
    )
    assert module_dtypes(pipe) == {"unet": torch.bfloat16, "vae": "mixed", "activation": None}


@pytest.mark.parametrize("pipe", [None, torch.nn.Linear(2, 2), SimpleNamespace(components=[])])
def test_refuses_what_is_no_pipeline(pipe):
    with pytest.raises(TypeError, match="pipe must be a diffusers pipeline"):
        module_dtypes(pipe)
