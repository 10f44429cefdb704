"""helpers.validate: each check names the argument, refuses what would be misread, and returns the canonical form."""

import numbers  # noqa: F401 - the string annotations of _Settings resolve against this module
import pathlib  # noqa: F401
import typing  # noqa: F401

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


@pytest.mark.parametrize(
    "call, accepted",
    [
        (lambda: v.integer("count", 5, minimum=0, maximum=3), r"^count must be an int in \[0, 3\], got 5$"),
        (lambda: v.integer("count", 5, maximum=3), r"^count must be an int <= 3, got 5$"),
        (lambda: v.integer("count", "5"), r"^count must be an int, got str '5'$"),
        (lambda: v.integer("count", 3.0, minimum=1), r"^count must be an int >= 1, got float 3.0$"),
        (lambda: v.number("scale", 2.0, minimum=0, maximum=1), r"^scale must be a number in \[0, 1\], got 2.0$"),
        (lambda: v.number("scale", 2.0, minimum=0, maximum=1, exclusive_minimum=True), r"^scale must be a number in \(0, 1\], got 2.0$"),
        (lambda: v.number("scale", False), r"^scale must be a number, got bool False$"),
    ],
)
def test_a_message_names_the_argument_the_accepted_range_and_what_it_got(call, accepted):
    with pytest.raises((TypeError, ValueError), match=accepted):
        call()


def test_the_bounds_themselves_are_accepted():
    assert v.integer("count", 1, minimum=1) == 1 and v.integer("count", 3, maximum=3) == 3
    assert v.positive_int("steps", 1) == 1
    assert v.number("scale", 0.0, minimum=0.0) == 0.0  # exact: returned unchanged
    assert v.number("scale", 1.0, maximum=1.0) == 1.0  # exact: returned unchanged
    assert v.seed("seed", 0) == 0 and v.seed("seed", v.MAX_SEED) == v.MAX_SEED
    assert v.seed("seed", v.NUMPY_MAX_SEED, maximum=v.NUMPY_MAX_SEED) == v.NUMPY_MAX_SEED
    with pytest.raises(ValueError, match=r"^count must be an int >= 1, got 0$"):
        v.integer("count", 0, minimum=1)
    with pytest.raises(ValueError, match=r"^count must be an int <= 3, got 4$"):
        v.integer("count", 4, maximum=3)


def test_a_message_names_the_kind_of_value_it_got():
    for call, got in [
        (lambda: v.boolean("breaks", 1), "got int 1"),
        (lambda: v.device("device", 0), "got int 0"),
        (lambda: v.one_of("mode", 3, ["a"]), "got int 3"),
        (lambda: v.tensor("latents", [1.0]), "got list"),
        (lambda: v.image_array("image", [[0.0]]), "got list"),
        (lambda: v.image_array("image", np.zeros((2, 2, 3), dtype=np.int64)), "got dtype int64"),
        (lambda: v.seed("seed", "abc"), "got str 'abc'$"),
        (lambda: v.dtype("dtype", 3), r"got int 3$"),
    ]:
        with pytest.raises(TypeError, match=got):
            call()


def test_seed_takes_a_0d_integer_array_and_names_a_custom_maximum():
    assert v.seed("seed", np.array(5)) == 5 and type(v.seed("seed", np.array(5))) is int
    for bad in (np.array([5]), np.array(5.0)):
        with pytest.raises(TypeError, match="^seed must be a non-negative int"):
            v.seed("seed", bad)
    with pytest.raises(ValueError, match=r"^seed must be a non-negative int, at most 10, got 11$"):
        v.seed("seed", 11, maximum=10)


def test_dtype_lists_the_accepted_dtypes_and_hints_only_at_a_dtype_name():
    with pytest.raises(TypeError) as info:
        v.dtype("dtype", "nonsense")
    message = str(info.value)
    assert message.startswith("dtype must be a torch.dtype, one of torch.float16, torch.bfloat16, torch.float32, torch.float64;")
    assert "use torch" not in message and message.endswith("got str 'nonsense'")
    assert v.dtype("dtype", torch.float64, "cpu") == torch.float64  # float64 is refused on MPS only


def test_dtype_refuses_bfloat16_on_a_gpu_without_it(monkeypatch):
    assert v.dtype("dtype", torch.bfloat16, "cuda") == torch.bfloat16  # no GPU here: nothing to judge
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    with pytest.raises(ValueError, match=r"^dtype=torch.bfloat16 will not run on cuda: this GPU has no bfloat16 support"):
        v.dtype("dtype", torch.bfloat16, "cuda")
    assert v.dtype("dtype", torch.float16, "cuda") == torch.float16
    assert v.dtype("dtype", torch.bfloat16, "cpu") == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert v.dtype("dtype", torch.bfloat16, "cuda") == torch.bfloat16


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_device_refuses_mps_where_there_is_none():
    with pytest.raises(ValueError, match=r"^device='mps': MPS is not available"):
        v.device("device", "mps")


def test_image_array_accepts_its_bounds_and_converts_every_pil_mode():
    assert v.image_array("image", np.ones((2, 2, 3))).max() == 1.0  # exact: 1.0 is accepted as is
    assert v.image_array("image", np.zeros((2, 2, 3), dtype=np.float32)).dtype == np.float64
    with pytest.raises(ValueError, match=r"values in \[1.5, 1.5\]"):
        v.image_array("image", np.full((2, 2, 3), 1.5))
    with pytest.raises(ValueError, match=r"values in \[-0.5, 0.5\]"):
        v.image_array("image", np.full((2, 2, 3), 0.5) * np.array([-1.0, 1.0, 1.0]))
    for mode in ("L", "RGBA", "P"):
        assert v.image_array("image", Image.new(mode, (5, 4))).shape == (4, 5, 3), mode
    with pytest.raises(ValueError, match=r"got shape \(5, 5, 2\)$"):  # no channel-first hint: 5 is no channel count
        v.image_array("image", np.zeros((5, 5, 2)))


def test_keywords_and_one_of_hint_only_at_a_close_match():
    with pytest.raises(ValueError, match=r"^call_kwargs does not take 'zzz'; accepted: a, b$"):
        v.keywords("call_kwargs", {"zzz": 1}, ["b", "a"])
    with pytest.raises(ValueError, match=r"^mode='zzz' is not accepted; accepted: 'a', 'b'$"):
        v.one_of("mode", "zzz", ["a", "b"])
    with pytest.raises(ValueError, match=r"did you mean 'trailing'\?"):
        v.one_of("timestep_spacing", "trailng", ["leading", "linspace", "trailing"])
    # no close match by spelling, but the same word in other case
    with pytest.raises(ValueError, match=r"did you mean 'linspace'\?"):
        v.one_of("timestep_spacing", "LINSPACE", ["leading", "linspace", "trailing"])


@pytest.mark.parametrize(
    "values, decreasing, strict, refused",
    [
        ([4.0, 3.0, 2.0, 1.0], True, True, None),
        ([4.0, 2.0, 3.0, 1.0], True, True, r"strictly decreasing .*entry 2 \(3\) follows 2$"),  # entries counted from 0
        ([3.0, 5.0, 1.0], True, True, r"entry 1 \(5\) follows 3$"),
        ([1.0, 1.5], True, True, "entry 1"),
        ([1.0, 1.5], True, False, r"must be decreasing \(from"),
        ([3.0, 3.0, 1.0], True, True, "entry 1"),
        ([3.0, 3.0, 1.0], True, False, None),
        ([0.0, 0.5, 2.0], False, True, None),
        ([0.0, 0.5, 2.0], False, False, None),
        ([1.0, 1.0, 2.0], False, True, r"must be strictly increasing \(from"),
        ([1.0, 1.0, 2.0], False, False, None),
        ([2.0, 1.0], False, False, r"must be increasing \(from"),
    ],
)
def test_monotonic_at_equal_and_small_steps(values, decreasing, strict, refused):
    if refused is None:
        assert v.monotonic("sigmas", values, decreasing=decreasing, strict=strict).tolist() == values  # exact: the values, copied
    else:
        with pytest.raises(ValueError, match=refused):
            v.monotonic("sigmas", values, decreasing=decreasing, strict=strict)


def test_monotonic_takes_a_tensor_as_float64():
    got = v.monotonic("sigmas", torch.tensor([3.0, 1.0]), decreasing=True)
    assert got.dtype == torch.float64 and got.tolist() == [3.0, 1.0]  # exact: integers in float


def test_tensor_returns_a_good_tensor_and_counts_what_is_not_finite():
    good = torch.ones(2, 3)
    assert v.tensor("latents", good) is good and v.tensor("latents", good, ndim=2) is good
    with pytest.raises(ValueError, match=r"^latents must be a 2 or 3-d tensor, got shape \(4,\)$"):
        v.tensor("latents", torch.ones(4), ndim=(2, 3))
    with pytest.raises(ValueError, match=r"\(1 of 3\)"):
        v.tensor("latents", torch.tensor([1.0, float("inf"), 2.0]))


def test_existing_dir_and_file(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    assert v.existing_dir("folder", str(tmp_path)) == tmp_path
    assert v.existing_file("path", tmp_path / "a.txt") == tmp_path / "a.txt"
    assert isinstance(v.existing_file("path", str(tmp_path / "a.txt")), type(tmp_path))
    with pytest.raises(ValueError, match=r"^folder must be an existing folder, got '.*a\.txt'$"):
        v.existing_dir("folder", tmp_path / "a.txt")
    with pytest.raises(ValueError, match=r"^path must be an existing file, got '.*'$") as info:
        v.existing_file("path", tmp_path)
    assert repr(str(tmp_path)) in str(info.value)
    for check in (v.existing_dir, v.existing_file):
        with pytest.raises(TypeError, match=r"^where must be a path \(str or Path\), got int$"):
            check("where", 3)


def test_numeric_array_takes_sequences_of_numbers_as_float64():
    for values in ([1, 2.5], (1, 2.5), np.array([1, 2.5], dtype=np.float32), torch.tensor([1.0, 2.5])):
        got = v.numeric_array("x", values)
        assert got.dtype == np.float64 and got.tolist() == [1.0, 2.5]  # exact: dyadic values
    assert v.numeric_array("x", range(3)).tolist() == [0.0, 1.0, 2.0]  # exact: integers in float
    assert v.numeric_array("x", [1, 2**70]).dtype == np.float64  # an object array of Python ints
    assert v.numeric_array("x", [[1, 2], [3, 4]], ndim=2).shape == (2, 2)


@pytest.mark.parametrize(
    "values, error, message",
    [
        ("0.5", TypeError, r"^x must be a sequence of numbers \(a list, tuple, NumPy array or tensor\), got str '0.5'$"),
        ({"a": 1}, TypeError, r"got dict \{'a': 1\}$"),
        (torch.tensor([1j]), TypeError, r"\(real, not bool\), got a tensor of dtype torch.complex64$"),
        (torch.tensor([True]), TypeError, r"got a tensor of dtype torch.bool$"),
        ([[1], [1, 2]], ValueError, r"^x must be a sequence of numbers; got a ragged or mixed nesting"),
        (["0.5", 1], TypeError, r"got str '0.5' among them \(write the numbers without quotes"),
        (["a", 1], TypeError, r"got str 'a' among them$"),
        ([None, 1], TypeError, r"got NoneType None among them$"),
        ([True, False], TypeError, r"got bool True among them$"),
        (np.array([True]), TypeError, r"got bool True among them$"),
        ([1, "a"], TypeError, r"got str 'a' among them$"),
        (np.array([], dtype=str), TypeError, r"got NoneType None among them$"),  # no value to name
        ([1.5, True], TypeError, r"got bool True among them$"),  # NumPy alone would read it as 1.0
        ([[1, 2], (3, np.bool_(False))], TypeError, r"got bool np.False_ among them$"),
    ],
)
def test_numeric_array_refuses_what_is_not_numbers(values, error, message):
    with pytest.raises(error, match=message):
        v.numeric_array("x", values)


def test_numeric_array_checks_the_dimensions_and_shortens_a_long_value():
    with pytest.raises(ValueError, match=r"^x must be a 1-d sequence of numbers, got shape \(2, 1\) \(a nested"):
        v.numeric_array("x", [[1], [2]], ndim=1)
    with pytest.raises(TypeError, match=r"^x must be a 2-d sequence of numbers") as info:
        v.numeric_array("x", "a" * 100, ndim=2)
    assert "'" + "a" * 39 in str(info.value) and "a" * 40 not in str(info.value)  # the value, cut at 40 characters


class _Settings:
    def __init__(
        self,
        steps: int = 10,
        mode: str = "a",
        scale: float = 1.0,
        flag: bool = False,
        maybe: "int | None" = None,
        choice: "typing.Literal['x', 'y']" = "x",
        either: "typing.Union[int, str]" = 0,
        pair: "tuple[int, int]" = (1, 1),
        where: "pathlib.Path | None" = None,
        anything: "typing.Any" = None,
        real: "numbers.Real" = 0.0,
        raw: bytes = b"",
        thing: object = None,
        untyped_text="s",
        untyped_number=1.5,
        untyped_flag=True,
        untyped_none=None,
    ):
        pass


class _Unresolved:
    def __init__(self, count: "NoSuchType" = 1, text: "NoSuchType" = "s"):  # noqa: F821 - does not resolve on purpose
        pass


def test_init_values_accepts_what_the_annotations_or_defaults_accept():
    v.init_values(
        "config",
        _Settings,
        {
            "steps": np.int64(3), "mode": "b", "scale": np.float32(2.0), "flag": np.bool_(True), "maybe": 4, "choice": "y",
            "either": "z", "anything": "z", "thing": 3, "untyped_text": "t", "untyped_number": 2, "untyped_flag": False,
            "untyped_none": "z", "not_a_parameter": "x", "pair": [1, 2], "real": 2.5,
        },
    )
    v.init_values("config", _Settings, {"steps": True, "flag": 1, "scale": 2})  # a bool is an int, an int a bool and a number
    v.init_values("config", _Unresolved, {"count": 2, "text": "t"})


@pytest.mark.parametrize(
    "cls, config, accepted",
    [
        (_Settings, {"steps": "10"}, r"^config\['steps'\] must be int \(_Settings.__init__ takes it so\), got str '10' \(write the number without quotes\)$"),
        (_Settings, {"mode": 3}, r"^config\['mode'\] must be str .* got int 3$"),
        (_Settings, {"scale": "x"}, r"must be float .*, got str 'x'$"),
        (_Settings, {"flag": "yes"}, r"must be bool .*, got str 'yes'$"),
        (_Settings, {"flag": 1.5}, r"^config\['flag'\] must be bool .*, got float 1.5$"),
        (_Settings, {"real": "2.5"}, r"^config\['real'\] must be Real "),
        (_Settings, {"raw": "x"}, r"^config\['raw'\] must be bytes "),
        (_Settings, {"steps": 2.5}, r"^config\['steps'\] must be int .*got float 2.5$"),
        (_Settings, {"maybe": "4"}, r"^config\['maybe'\] must be int or None "),
        (_Settings, {"choice": "z"}, r"^config\['choice'\] must be Literal\['x', 'y'\] "),
        (_Settings, {"pair": 3}, r"^config\['pair'\] must be tuple\[int, int\] "),
        (_Settings, {"where": "out"}, r"^config\['where'\] must be Path or None "),
        (_Settings, {"untyped_text": 3}, r"^config\['untyped_text'\] must be a str \(its default is a str\) "),
        (_Settings, {"untyped_number": "2"}, r"^config\['untyped_number'\] must be a number \(its default is 1.5\) .*without quotes"),
        (_Settings, {"untyped_flag": "yes"}, r"^config\['untyped_flag'\] must be True or False \(its default is a bool\) "),
        (_Unresolved, {"count": "x"}, r"^config\['count'\] must be a number \(its default is 1\) \(_Unresolved.__init__"),
        (_Unresolved, {"text": 3}, r"^config\['text'\] must be a str"),
    ],
)
def test_init_values_refuses_a_string_for_a_number_and_a_number_for_a_string(cls, config, accepted):
    with pytest.raises(TypeError, match=accepted):
        v.init_values("config", cls, {"mode": "b", "steps": 2, **config})


def test_init_values_checks_every_key_not_only_the_first():
    with pytest.raises(TypeError, match="'mode'"):
        v.init_values("config", _Settings, {"not_a_parameter": 1, "steps": [1, 2], "scale": 2.0, "mode": 3})
    with pytest.raises(TypeError, match="'mode'"):
        v.init_values("config", _Settings, {"untyped_none": "z", "mode": 3})  # neither annotated nor a typed default


def test_numeric_array_names_the_value_as_it_was_given():
    # NumPy reads [1, "a"] as the strings ["1", "a"]: the message names "a", and no number as a string
    with pytest.raises(TypeError, match=r"got str 'a' among them$"):
        v.numeric_array("x", [1, "a"])
    with pytest.raises(TypeError, match=r"got str 'b' among them$"):
        v.numeric_array("x", [[1.5, 2], [3, "b"]])
    assert v.numeric_array("x", [torch.tensor(0.5), np.float32(0.25)]).tolist() == [0.5, 0.25]  # exact: dyadic values
