"""helpers.validate: each check names the argument, refuses what would be misread, and returns the canonical form."""

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import validate as v


@pytest.mark.parametrize("bad, error", [(True, TypeError), (3.0, TypeError), ("3", TypeError), (0, ValueError), (-2, ValueError)])
def test_positive_int_refuses(bad, error):
    with pytest.raises(error, match=r"^steps must be an int >= 1"):
        v.positive_int("steps", bad)


def test_positive_int_accepts_numpy_ints():
    assert v.positive_int("steps", np.int64(4)) == 4 and type(v.positive_int("steps", np.int64(4))) is int


@pytest.mark.parametrize("bad, error", [(float("nan"), ValueError), (float("inf"), ValueError), (False, TypeError), (None, TypeError), (1.5, ValueError)])
def test_number_refuses(bad, error):
    with pytest.raises(error, match="strength"):
        v.number("strength", bad, minimum=0.0, maximum=1.0)


def test_number_exclusive_minimum():
    with pytest.raises(ValueError, match=r"> 0"):
        v.number("scale", 0.0, minimum=0.0, exclusive_minimum=True)
    assert v.number("scale", torch.tensor(2.0), minimum=0.0, exclusive_minimum=True) == 2.0  # exact: 2.0


def test_one_of_suggests_the_close_name():
    with pytest.raises(ValueError, match=r"timestep_spacing='Trailing' is not accepted \(did you mean 'trailing'\?\)"):
        v.one_of("timestep_spacing", "Trailing", ["leading", "linspace", "trailing"])
    with pytest.raises(TypeError, match="must be a string"):
        v.one_of("timestep_spacing", 3, ["leading"])
    assert v.one_of("x", "a", ["a", "b"]) == "a"


def test_monotonic_refuses_a_reversed_schedule_and_names_the_entry():
    with pytest.raises(ValueError, match=r"sigmas must be strictly decreasing .* entry 1"):
        v.monotonic("sigmas", [1.0, 2.0, 3.0], decreasing=True)
    assert v.monotonic("sigmas", [3.0, 2.0, 0.0], decreasing=True).dtype == torch.float64
    with pytest.raises(ValueError, match="at least 2"):
        v.monotonic("sigmas", [1.0], decreasing=True)
    with pytest.raises(ValueError, match="finite"):
        v.monotonic("timesteps", [1.0, float("nan")], decreasing=False)


def test_image_array_refuses_what_would_be_misread():
    with pytest.raises(ValueError, match="channel-first"):
        v.image_array("image", np.zeros((3, 32, 32)))
    with pytest.raises(ValueError, match=r"values in \[0, 255\].*divide"):
        v.image_array("image", np.full((8, 8, 3), 255.0) * np.linspace(0, 1, 8)[:, None, None])
    with pytest.raises(ValueError, match="NaN"):
        v.image_array("image", np.full((4, 4, 3), np.nan))
    with pytest.raises(TypeError, match="torch tensor"):
        v.image_array("image", torch.zeros(4, 4, 3))
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        v.image_array("image", np.zeros((4, 4)))


def test_image_array_canonical_forms_agree():
    pixels = (np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5)
    as_uint8 = v.image_array("image", pixels)
    assert np.allclose(as_uint8, pixels / 255.0)
    assert np.allclose(v.image_array("image", Image.fromarray(pixels)), as_uint8)
    assert np.allclose(v.image_array("image", pixels / 255.0), as_uint8)


@pytest.mark.parametrize("bad", [1, 0, "yes", None, 1.0])
def test_boolean_refuses_what_is_not_a_bool(bad):
    with pytest.raises(TypeError, match=r"^breaks must be True or False"):
        v.boolean("breaks", bad)


def test_boolean_accepts_numpy_bools():
    assert v.boolean("breaks", np.bool_(True)) is True and v.boolean("breaks", False) is False


def test_tensor_refuses_wrong_kind_dims_and_nan():
    with pytest.raises(TypeError, match=r"^latents must be a torch tensor"):
        v.tensor("latents", np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        v.tensor("latents", torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"latents must be a 4-d tensor, got shape \(3,\)"):
        v.tensor("latents", torch.zeros(3), ndim=4)
    with pytest.raises(ValueError, match="NaN"):
        v.tensor("latents", torch.tensor([1.0, float("nan")]))
    assert v.tensor("latents", torch.tensor([float("nan")]), finite=False).shape == (1,)
    assert v.tensor("x", torch.zeros(2, 3, device="meta"), ndim=(2, 3)).is_meta


def test_keywords_names_the_unknown_key_with_a_hint():
    with pytest.raises(ValueError, match=r"call_kwargs does not take 'num_inference_step' \(did you mean 'num_inference_steps'\?\)"):
        v.keywords("call_kwargs", {"num_inference_step": 2}, ["num_inference_steps", "guidance_scale"])
    assert v.keywords("call_kwargs", {"guidance_scale": 2}, ["guidance_scale"]) == {"guidance_scale": 2}


@pytest.mark.parametrize(
    "bad, error",
    [("42", TypeError), (1.5, TypeError), (True, TypeError), (np.bool_(False), TypeError), (-1, ValueError), (2**64, ValueError)],
)
def test_seed_refuses_what_is_not_a_seed(bad, error):
    with pytest.raises(error, match=r"^seed must be a non-negative int, at most 2\^64 - 1"):
        v.seed("seed", bad)


def test_seed_accepts_numpy_ints_and_a_smaller_maximum():
    assert v.seed("seed", np.int64(7)) == 7 and type(v.seed("seed", np.int64(7))) is int
    with pytest.raises(ValueError, match=r"at most 2\^32 - 1"):
        v.seed("seed", 2**32, maximum=v.NUMPY_MAX_SEED)
    with pytest.raises(TypeError, match="write 42 without quotes"):
        v.seed("seed", " 42")


def test_dtype_refuses_non_float_dtypes_and_what_the_device_cannot_run():
    with pytest.raises(TypeError, match=r"dtype must be a torch.dtype.*\(use torch.float16\)"):
        v.dtype("dtype", "float16")
    for bad in (torch.int8, torch.float8_e4m3fn, torch.complex64, torch.bool):
        with pytest.raises(ValueError, match="dtype must be a floating-point dtype"):
            v.dtype("dtype", bad)
    with pytest.raises(ValueError, match="will not run on cpu"):
        v.dtype("dtype", torch.float16, "cpu", pipeline="UnCLIPPipeline")
    with pytest.raises(ValueError, match="MPS has no float64"):
        v.dtype("dtype", torch.float64, torch.device("mps"))
    assert v.dtype("dtype", torch.bfloat16, "cpu", pipeline="StableDiffusionPipeline") == torch.bfloat16


def test_device_refuses_unknown_and_absent_devices():
    with pytest.raises(TypeError, match="device must be a device string"):
        v.device("device", 0)
    with pytest.raises(ValueError, match="is not a torch device"):
        v.device("device", "gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            v.device("device", "cuda:0")
    assert v.device("device", "cpu") == torch.device("cpu")


def test_instance_says_when_a_class_was_passed():
    with pytest.raises(TypeError, match=r"^scene must be a Scene; got the class int itself: pass an instance"):
        v.instance("scene", int, str, "a Scene")
    with pytest.raises(TypeError, match=r"^scene must be a Scene; got float$"):
        v.instance("scene", 1.5, str, "a Scene")
    assert v.instance("scene", "x", str, "a Scene") == "x"
