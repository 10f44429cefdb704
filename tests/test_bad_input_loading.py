"""Careless-user mistakes against pipelines, signatures, tiny, seeds, prompts, plotting and widgets (issue 21).

Each case is a plausible mistake; each must raise the stated exception before any work is done, with a
message that names the argument. None may come back with a result. Legal but suspicious input gets a
specific warning instead (the last tests).
"""

import json
import shutil
import warnings

import diffusers
import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline
from PIL import Image

import helpers
from helpers import pipelines, prompts, seeds
from helpers.book import plotting, widgets
from helpers.models import tiny
from helpers.prompts import BREAK, Chunk, Run
from helpers.research import signatures
from tests.bad_input_support import assert_names_argument

CTX = helpers.setup(profile="tiny", device="cpu")
TOKENIZER = tiny.clip_tokenizer()
ENCODER = tiny.CLIPTextModel(tiny.clip_text_config(TOKENIZER))
CHUNKS = prompts.chunk(prompts.parse("a lighthouse"), TOKENIZER)
Z = torch.randn(1, 77, tiny.TEXT_WIDTH, generator=torch.Generator().manual_seed(0))
W = torch.ones(77)
NOISE = torch.randn(4, 8, 8, generator=torch.Generator().manual_seed(0))
IMAGE = np.zeros((8, 8, 3))
SDXL_FOLDER = str(pipelines.tiny_dir("sdxl"))
SD_FOLDER = str(pipelines.tiny_dir("sd15"))


class Dummy:
    pass


CASES = [
    # helpers.pipelines.load / from_pretrained / source
    ("load: another family's folder", lambda: pipelines.load("sd15", CTX, model_id=SDXL_FOLDER), ValueError, "model_id"),
    # the registry of real checkpoints (full profile)
    ("model_id: a typo", lambda: pipelines.model_id("sd-15"), ValueError, "sd15"),
    ("model_id: a Family object", lambda: pipelines.model_id(pipelines.family("sd15")), TypeError, "key"),
    ("mirror_folder: a family name, not a Hub id", lambda: pipelines.mirror_folder("sd15"), ValueError, "model_id"),
    ("checkpoint: a family name", lambda: pipelines.checkpoint("sd15", CTX), ValueError, "ip-adapter-sd15"),
    ("checkpoint: in the tiny profile", lambda: pipelines.checkpoint("ip-adapter-sd15", CTX), helpers.OfflineProfileError, "tiny"),
    ("checkpoint: a profile name as ctx", lambda: pipelines.checkpoint("ip-adapter-sd15", "full"), TypeError, "ctx"),
    ("hub_kwargs: wuerstchen has no folder", lambda: pipelines.hub_kwargs("wuerstchen", CTX, "/tmp"), ValueError, "wuerstchen"),
    ("load: missing folder", lambda: pipelines.load("sd15", CTX, model_id="/no/such/folder"), ValueError, "does not exist"),
    ("load: relative missing folder", lambda: pipelines.load("sd15", CTX, model_id="./no/such/folder"), ValueError, "model_id"),
    ("load: model_id an int", lambda: pipelines.load("sd15", CTX, model_id=15), TypeError, "model_id"),
    ("load: model_id a bad Hub id", lambda: pipelines.load("sd15", CTX, model_id="not a hub id"), ValueError, "model_id"),
    ("load: name typo", lambda: pipelines.load("sd-15", CTX), ValueError, "name"),
    ("load: name case", lambda: pipelines.load("SDXL", CTX), ValueError, "name"),
    ("load: name not a string", lambda: pipelines.load(None, CTX), TypeError, "name"),
    ("load: ctx a device string", lambda: pipelines.load("sd15", "cpu"), TypeError, "ctx"),
    ("load: ctx a dict", lambda: pipelines.load("sd15", {"profile": "tiny"}), TypeError, "ctx"),
    ("load: keyword typo", lambda: pipelines.load("sd15", CTX, varient="fp16"), ValueError, "varient"),
    ("load: keyword diffusers ignores", lambda: pipelines.load("sd15", CTX, guidance_scale=7.5), ValueError, "guidance_scale"),
    ("load: dtype as a string", lambda: pipelines.load("sd15", CTX, dtype="float16"), TypeError, "dtype"),
    ("load: dtype and torch_dtype", lambda: pipelines.load("sd15", CTX, dtype=torch.float32, torch_dtype=torch.float32), ValueError, "dtype"),
    ("load: variant not a string", lambda: pipelines.load("sd15", CTX, variant=16), TypeError, "variant"),
    ("load: scheduler by name", lambda: pipelines.load("sd15", CTX, scheduler="Euler"), TypeError, "scheduler"),
    ("load: prior_model_id outside wuerstchen", lambda: pipelines.load("sd15", CTX, prior_model_id=SD_FOLDER), ValueError, "prior_model_id"),
    ("load: wuerstchen prior from the sd15 folder", lambda: pipelines.load("wuerstchen", CTX, prior_model_id=SD_FOLDER), ValueError, "model_id"),
    ("load: a Hub id in tiny", lambda: pipelines.load("sd15", CTX, model_id="org/model"), helpers.OfflineProfileError, "model_id"),
    ("from_pretrained: ctx None", lambda: pipelines.from_pretrained("sd15", None), TypeError, "ctx"),
    ("from_pretrained: keyword typo", lambda: pipelines.from_pretrained("sd15", CTX, use_safetensor=True), ValueError, "use_safetensor"),
    ("source: another family's folder", lambda: pipelines.source("sdxl", CTX, model_id=SD_FOLDER), ValueError, "model_id"),
    ("source: ctx a string", lambda: pipelines.source("sd15", "tiny"), TypeError, "ctx"),
    ("source: a file as model_id", lambda: pipelines.source("sd15", CTX, model_id=SD_FOLDER + "/model_index.json"), ValueError, "model_id"),
    ("family: typo", lambda: pipelines.family("pixart"), ValueError, "name"),
    ("family: a list", lambda: pipelines.family(["sd15"]), TypeError, "name"),
    ("tiny_dir: wuerstchen has no folder", lambda: pipelines.tiny_dir("wuerstchen"), ValueError, "name"),
    ("tiny_dir: typo", lambda: pipelines.tiny_dir("unclip-variation"), ValueError, "name"),
    ("hub_cache: root an int", lambda: pipelines.hub_cache("sd15", 3), TypeError, "root"),
    ("hub_cache: model_id without org", lambda: pipelines.hub_cache("sd15", "/tmp/x", model_id="sd15"), ValueError, "model_id"),
    ("hub_cache: wuerstchen", lambda: pipelines.hub_cache("wuerstchen", "/tmp/x"), ValueError, "name"),
    ("write_hub_layout: fam a name", lambda: pipelines.write_hub_layout(SD_FOLDER, "sd15"), TypeError, "fam"),
    ("write_hub_layout: empty folder", lambda: pipelines.write_hub_layout("/tmp", pipelines.family("sd15")), ValueError, "folder"),
    ("default_call_kwargs: typo", lambda: pipelines.default_call_kwargs("sdxl-base", CTX), ValueError, "name"),
    ("default_call_kwargs: ctx missing", lambda: pipelines.default_call_kwargs("sd15", "tiny"), TypeError, "ctx"),
    ("combine_wuerstchen: overrides a list", lambda: pipelines.combine_wuerstchen(CTX, None, None, ["dtype"]), TypeError, "overrides"),
    ("combine_wuerstchen: ctx a string", lambda: pipelines.combine_wuerstchen("tiny", None, None, {}), TypeError, "ctx"),
    ("check_context: a profile name", lambda: pipelines.check_context("tiny"), TypeError, "ctx"),
    ("check_folder_family: sd15 folder for pixart-sigma", lambda: pipelines.check_folder_family("pixart-sigma", pipelines.Path(SD_FOLDER)), ValueError, "model_id"),
    ("check_folder_family: a folder without an index", lambda: pipelines.check_folder_family("sd15", pipelines.Path("/tmp")), ValueError, "model_index.json"),
    ("check_overrides: a stage's component for the combined pipeline", lambda: pipelines.check_overrides("wuerstchen", {"unet": None}), ValueError, "unet"),
    ("check_model_id: nonexistent Path", lambda: pipelines.check_model_id("sd15", pipelines.Path("/no/such")), ValueError, "model_id"),
    ("with_pag: empty pattern", lambda: pipelines.with_pag(object(), layers=""), ValueError, "layers"),
    ("with_pag: bad regex", lambda: pipelines.with_pag(object(), layers="mid("), ValueError, "layers"),
    ("with_pag: layers a tuple", lambda: pipelines.with_pag(object(), layers=("mid",)), TypeError, "layers"),
    ("with_pag: not a PAG family", lambda: pipelines.with_pag(DDIMScheduler()), ValueError, "pipe"),
    # helpers.research.signatures
    ("call_parameters: a scheduler", lambda: signatures.call_parameters(DDIMScheduler), TypeError, "pipeline"),
    ("call_parameters: a string", lambda: signatures.call_parameters("StableDiffusionPipeline"), TypeError, "pipeline"),
    ("call_parameters: the base class", lambda: signatures.call_parameters(diffusers.DiffusionPipeline), TypeError, "pipeline"),
    ("compare: nothing", lambda: signatures.compare(), ValueError, "pipeline"),
    ("compare: the same class twice", lambda: signatures.compare(StableDiffusionPipeline, StableDiffusionPipeline), ValueError, "pipeline"),
    ("diff: a string", lambda: signatures.diff(StableDiffusionPipeline, "sdxl"), TypeError, "pipeline"),
    ("parameter_docs: an instance of something else", lambda: signatures.parameter_docs(Dummy()), TypeError, "pipeline"),
    ("doc_disagreements: nothing", lambda: signatures.doc_disagreements(), ValueError, "pipeline"),
    ("group_of: not a string", lambda: signatures.group_of(3), TypeError, "name"),
    ("documented_default: None", lambda: signatures.documented_default(None), TypeError, "spec"),
    ("computed_size: a class", lambda: signatures.computed_size(StableDiffusionPipeline, "p"), TypeError, "pipe"),
    ("full_size_on_meta: typo", lambda: signatures.full_size_on_meta("sd1.5"), ValueError, "name"),
    ("full_size_on_meta: not a string", lambda: signatures.full_size_on_meta(15), TypeError, "name"),
    # helpers.models.tiny
    ("clip_tokenizer: max_length too small", lambda: tiny.clip_tokenizer(2), ValueError, "max_length"),
    ("clip_tokenizer: max_length a float", lambda: tiny.clip_tokenizer(77.0), TypeError, "max_length"),
    ("t5_tokenizer: max_length a string", lambda: tiny.t5_tokenizer("512"), TypeError, "max_length"),
    ("clip_text_config: a string tokenizer", lambda: tiny.clip_text_config("clip"), TypeError, "tokenizer"),
    ("clip_text_config: config key typo", lambda: tiny.clip_text_config(TOKENIZER, projection_dims=32), ValueError, "projection_dims"),
    ("clip_text_config: a key it sets itself", lambda: tiny.clip_text_config(TOKENIZER, vocab_size=64), ValueError, "vocab_size"),
    ("clip_text_config: a zero hidden size", lambda: tiny.clip_text_config(TOKENIZER, hidden_size=0), ValueError, "hidden_size"),
    ("vae: odd sample_size", lambda: tiny.vae(33), ValueError, "sample_size"),
    ("vae: zero sample_size", lambda: tiny.vae(0), ValueError, "sample_size"),
    ("refill_zero_parameters: not a module", lambda: tiny.refill_zero_parameters({"w": torch.zeros(2)}), TypeError, "module"),
    ("refill_zero_parameters: negative std", lambda: tiny.refill_zero_parameters(torch.nn.Linear(2, 2), std=-0.1), ValueError, "std"),
    ("refill_zero_parameters: NaN below", lambda: tiny.refill_zero_parameters(torch.nn.Linear(2, 2), below=float("nan")), ValueError, "below"),
    ("build: components instead of the builder", lambda: tiny.build({"unet": None}), TypeError, "builder"),
    ("build: a builder that returns a list", lambda: tiny.build(lambda: [1]), TypeError, "builder"),
    # helpers.seeds
    ("batch_generators: n a string", lambda: seeds.batch_generators(0, "4"), TypeError, "n"),
    ("batch_generators: n a float", lambda: seeds.batch_generators(0, 2.0), TypeError, "n"),
    ("batch_generators: scheme case", lambda: seeds.batch_generators(0, 2, "A1111"), ValueError, "scheme"),
    ("batch_generators: device typo", lambda: seeds.batch_generators(0, 2, device="cpux"), ValueError, "device"),
    ("batch_generators: seed a float", lambda: seeds.batch_generators(1.0, 2), TypeError, "seed"),
    ("a1111_seeds: strength NaN", lambda: seeds.a1111_seeds(0, 2, subseed_strength=float("nan")), ValueError, "subseed_strength"),
    ("a1111_seeds: negative subseed", lambda: seeds.a1111_seeds(0, 2, subseed=-1, subseed_strength=0.5), ValueError, "subseed"),
    ("a1111_seeds: n zero", lambda: seeds.a1111_seeds(0, 0), ValueError, "n"),
    ("a1111_latents: source upper case", lambda: seeds.a1111_latents(0, (4, 8, 8), source="NV"), ValueError, "source"),
    ("a1111_latents: strength a string", lambda: seeds.a1111_latents(0, (4, 8, 8), subseed_strength="0.3"), TypeError, "subseed_strength"),
    ("a1111_latents: resize a number", lambda: seeds.a1111_latents(0, (4, 8, 8), seed_resize_from=512), TypeError, "seed_resize_from"),
    ("a1111_latents: device for cpu", lambda: seeds.a1111_latents(0, (4, 8, 8), device="cpu"), ValueError, "device"),
    ("a1111_slerp: val above 1", lambda: seeds.a1111_slerp(1.5, NOISE, NOISE.flip(0)), ValueError, "val"),
    ("a1111_slerp: NaN noise", lambda: seeds.a1111_slerp(0.5, NOISE * float("nan"), NOISE), ValueError, "low"),
    ("a1111_slerp: zero noise", lambda: seeds.a1111_slerp(0.5, NOISE, torch.zeros_like(NOISE)), ValueError, "high"),
    ("a1111_slerp: shapes differ", lambda: seeds.a1111_slerp(0.5, NOISE, NOISE[:, :4]), ValueError, "low and high"),
    ("a1111_slerp: numpy noise", lambda: seeds.a1111_slerp(0.5, NOISE.numpy(), NOISE), TypeError, "low"),
    ("a1111_slerp: 1-d noise", lambda: seeds.a1111_slerp(0.5, torch.ones(4), torch.ones(4)), ValueError, "low"),
    ("philox4x32_10: negative counter", lambda: seeds.philox4x32_10((-1, 0, 0, 0), (0, 0)), ValueError, "counter"),
    ("philox4x32_10: float key", lambda: seeds.philox4x32_10((0, 0, 0, 0), (0.5, 0)), TypeError, "key"),
    ("philox4x32_10: key columns", lambda: seeds.philox4x32_10(np.zeros((4, 3), int), np.zeros((2, 2), int)), ValueError, "key"),
    ("box_muller: shapes differ", lambda: seeds.box_muller(np.zeros(3, np.uint32), np.zeros(2, np.uint32)), ValueError, "x and y"),
    ("box_muller: floats", lambda: seeds.box_muller(np.zeros(3), np.zeros(3)), TypeError, "x"),
    ("PhiloxGenerator: seed a string", lambda: seeds.PhiloxGenerator("42"), TypeError, "seed"),
    ("PhiloxGenerator.randn: shape an int", lambda: seeds.PhiloxGenerator(0).randn(8), TypeError, "shape"),
    ("A1111Noise: seeds empty", lambda: seeds.A1111Noise([], (4, 8, 8)), TypeError, "seeds"),
    ("A1111Noise: seeds a string", lambda: seeds.A1111Noise("123", (4, 8, 8)), TypeError, "seeds"),
    ("A1111Noise: more subseeds than seeds", lambda: seeds.A1111Noise([1], (4, 8, 8), subseeds=[1, 2]), ValueError, "subseeds"),
    ("A1111Noise: bad resize", lambda: seeds.A1111Noise([1], (4, 8, 8), seed_resize_from=(4, 4)), ValueError, "seed_resize_from"),
    ("A1111Noise: source typo", lambda: seeds.A1111Noise([1], (4, 8, 8), source="gpu0"), ValueError, "source"),
    ("recorded_draws: a module without randn_tensor", lambda: seeds.recorded_draws(json).__enter__(), TypeError, "randn_tensor"),
    # helpers.prompts
    ("parse: a list of prompts", lambda: prompts.parse(["a", "b"]), TypeError, "prompt"),
    ("parse: unclosed bracket", lambda: prompts.parse("(a lighthouse"), ValueError, "never closed"),
    ("parse: weight with a space", lambda: prompts.parse("(a: 1.3)"), ValueError, "weight"),
    ("next_special: negative start", lambda: prompts.next_special("abc", -1), ValueError, "start"),
    ("close: nothing open", lambda: prompts.close("a)", 1, ")", [], None, 1.1), ValueError, "closes nothing"),
    ("merge: a string", lambda: prompts.merge("abc"), TypeError, "items"),
    ("check_tokenizer: a model id", lambda: prompts.check_tokenizer("openai/clip-vit-large-patch14"), TypeError, "tokenizer"),
    ("chunk: the prompt string", lambda: prompts.chunk("a lighthouse", TOKENIZER), TypeError, "parse"),
    ("chunk: a run with a string weight", lambda: prompts.chunk([Run("a", "1.2")], TOKENIZER), TypeError, "runs[0].weight"),
    ("chunk: comma_backtrack a bool", lambda: prompts.chunk([Run("a", 1.0)], TOKENIZER, comma_backtrack=True), TypeError, "comma_backtrack"),
    ("chunk: comma_backtrack too large", lambda: prompts.chunk([Run("a", 1.0)], TOKENIZER, comma_backtrack=80), ValueError, "comma_backtrack"),
    ("chunk: breaks a string", lambda: prompts.chunk([Run("a", 1.0), BREAK], TOKENIZER, breaks="no"), TypeError, "breaks"),
    ("pad_chunks: count a float", lambda: prompts.pad_chunks(CHUNKS, 2.0, TOKENIZER), TypeError, "count"),
    ("pad_chunks: fewer than given", lambda: prompts.pad_chunks(CHUNKS * 3, 2, TOKENIZER), ValueError, "pad"),
    ("pad_chunks: one Chunk, not a list", lambda: prompts.pad_chunks(CHUNKS[0], 2, TOKENIZER), TypeError, "chunks"),
    ("encode: empty chunks", lambda: prompts.encode([], ENCODER), ValueError, "chunks"),
    ("encode: text_encoder a tokenizer", lambda: prompts.encode(CHUNKS, TOKENIZER), TypeError, "text_encoder"),
    ("encode: layer beyond the encoder", lambda: prompts.encode(CHUNKS, ENCODER, layer=5), ValueError, "layer"),
    ("encode: layer a float", lambda: prompts.encode(CHUNKS, ENCODER, layer=-2.0), TypeError, "layer"),
    ("weights_tensor: like a list", lambda: prompts.weights_tensor(CHUNKS, [1.0]), TypeError, "like"),
    ("weight: method typo", lambda: prompts.weight(Z, W, "A1111"), ValueError, "method"),
    ("weight: NaN embeddings", lambda: prompts.weight(Z * float("nan"), W), ValueError, "z"),
    ("weight: weights a list", lambda: prompts.weight(Z, [1.0] * 77), TypeError, "weights"),
    ("weight: chunk_length zero", lambda: prompts.weight(Z, W, chunk_length=0), ValueError, "chunk_length"),
    ("weight: zero embeddings, A1111 mean restoration", lambda: prompts.weight(torch.zeros_like(Z), W * 1.1), ValueError, "mean"),
    ("encode_prompt: method typo before encoding", lambda: prompts.encode_prompt("a", TOKENIZER, ENCODER, method="compell"), ValueError, "method"),
    ("encode_prompt: count zero", lambda: prompts.encode_prompt("a", TOKENIZER, ENCODER, count=0), ValueError, "count"),
    ("chunk_count: prompt None", lambda: prompts.chunk_count(None, TOKENIZER), TypeError, "prompt"),
    ("prompt_embeds: a list of prompts", lambda: prompts.prompt_embeds(Dummy(), ["a", "b"]), TypeError, "prompt"),
    ("prompt_embeds: not a pipeline", lambda: prompts.prompt_embeds(Dummy(), "a"), TypeError, "pipe"),
    ("prompt_embeds: negative prompt malformed", lambda: prompts.prompt_embeds(Dummy(), "a", "(b"), ValueError, "never closed"),
    # helpers.book.plotting
    ("to_array: a file name", lambda: plotting.to_array("image.png"), TypeError, "image"),
    ("to_array: channel-first numpy", lambda: plotting.to_array(np.zeros((3, 32, 32))), ValueError, "channel-first"),
    ("to_array: float 0..255", lambda: plotting.to_array(np.full((4, 4, 3), 200.0)), ValueError, "image"),
    ("to_array: decoder output in [-1, 1]", lambda: plotting.to_array(-torch.ones(3, 4, 4) * 0.5), ValueError, "image"),
    ("to_array: a batch", lambda: plotting.to_array(np.zeros((1, 4, 4, 3))), ValueError, "batch"),
    ("to_array: NaN", lambda: plotting.to_array(np.full((4, 4, 3), np.nan)), ValueError, "NaN"),
    ("to_array: int64 pixels", lambda: plotting.to_array(np.zeros((4, 4, 3), dtype=np.int64)), TypeError, "dtype"),
    ("image_grid: empty", lambda: plotting.image_grid([]), ValueError, "images"),
    ("image_grid: one array, not a list", lambda: plotting.image_grid(IMAGE), TypeError, "images"),
    ("image_grid: a 0..255 float image", lambda: plotting.image_grid([IMAGE, IMAGE + 255.0]), ValueError, "images[1]"),
    ("image_grid: titles one string", lambda: plotting.image_grid([IMAGE, IMAGE], titles="ab"), TypeError, "titles"),
    ("image_grid: titles too few", lambda: plotting.image_grid([IMAGE, IMAGE], titles=["a"]), ValueError, "titles"),
    ("image_grid: title a number", lambda: plotting.image_grid([IMAGE], titles=[0.5]), TypeError, "titles[0]"),
    ("image_grid: ncols zero", lambda: plotting.image_grid([IMAGE], ncols=0), ValueError, "ncols"),
    ("image_grid: ncols a float", lambda: plotting.image_grid([IMAGE], ncols=1.0), TypeError, "ncols"),
    ("image_grid: size negative", lambda: plotting.image_grid([IMAGE], size=-1), ValueError, "size"),
    ("image_grid: suptitle a list", lambda: plotting.image_grid([IMAGE], suptitle=["t"]), TypeError, "suptitle"),
    ("line_plot: empty", lambda: plotting.line_plot({}, "x", "y"), ValueError, "series"),
    ("line_plot: a list of pairs", lambda: plotting.line_plot([([1], [2])], "x", "y"), TypeError, "series"),
    ("line_plot: lengths differ", lambda: plotting.line_plot({"a": ([1, 2, 3], [1, 2])}, "x", "y"), ValueError, "series['a']"),
    ("line_plot: not a pair", lambda: plotting.line_plot({"a": [1, 2, 3]}, "x", "y"), TypeError, "series['a']"),
    ("line_plot: zeros on a log axis", lambda: plotting.line_plot({"a": ([1, 2], [0.0, 1.0])}, "x", "y", logy=True), ValueError, "logy"),
    ("line_plot: logy a string", lambda: plotting.line_plot({"a": ([1], [1])}, "x", "y", logy="yes"), TypeError, "logy"),
    ("line_plot: xlabel None", lambda: plotting.line_plot({"a": ([1], [1])}, None, "y"), TypeError, "xlabel"),
    ("line_plot: label not a string", lambda: plotting.line_plot({1: ([1], [1])}, "x", "y"), TypeError, "label"),
    ("detach: an Axes", lambda: plotting.detach(np.zeros(2)), TypeError, "fig"),
    # helpers.book.widgets
    ("show: a widget instead of a function", lambda: widgets.show(object()), TypeError, "build"),
]


@pytest.mark.parametrize("case, call, error, named", CASES, ids=[c[0] for c in CASES])
def test_mistake_is_refused_with_a_message_naming_the_argument(case, call, error, named):
    with pytest.raises(error) as caught:
        call()
    assert_names_argument(str(caught.value), named)


def test_every_public_function_has_a_case_and_says_what_it_refuses():
    import inspect

    modules = (pipelines, signatures, tiny, seeds, prompts, plotting, widgets)
    tried = {c[0].split(":")[0].split(".")[0] for c in CASES}
    missing, silent = [], []
    for module in modules:
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or inspect.isclass(obj) and issubclass(obj, Warning):
                continue
            doc = inspect.getdoc(obj) or ""
            takes_args = inspect.isfunction(obj) and inspect.signature(obj).parameters
            if inspect.isfunction(obj) and takes_args or inspect.isclass(obj) and name in tried:
                if "Refuses" not in doc:
                    silent.append(f"{module.__name__}.{name}")
                if name not in tried:
                    missing.append(f"{module.__name__}.{name}")
    assert not silent, f"docstrings that do not say what they refuse: {silent}"
    assert not missing, f"public functions no case tries: {missing}"


def test_the_sdxl_folder_is_refused_before_anything_is_built(monkeypatch):
    built = []
    monkeypatch.setattr(StableDiffusionPipeline, "from_pretrained", classmethod(lambda *a, **k: built.append(1)))
    with pytest.raises(ValueError, match=r"StableDiffusionXLPipeline \(family 'sdxl'\).*family 'sd15'"):
        pipelines.load("sd15", CTX, model_id=SDXL_FOLDER)
    assert built == []


def test_a_folder_of_the_same_components_is_accepted(tmp_path):
    # an img2img folder has the text-to-image class's components: it loads as sd15
    folder = tmp_path / "img2img"
    shutil.copytree(SD_FOLDER, folder)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_class_name": "StableDiffusionImg2ImgPipeline"}))
    assert pipelines.source("sd15", CTX, model_id=folder) == str(folder)


def test_a_missing_folder_is_not_blamed_on_the_network():
    with pytest.raises(ValueError) as caught:
        pipelines.load("sd15", CTX, model_id="/no/such/folder")
    assert "does not exist" in str(caught.value) and "download" not in str(caught.value)


def test_dtype_override_replaces_the_context_dtype():
    pipe = pipelines.load("sd15", CTX, dtype=torch.bfloat16)
    assert pipe.unet.dtype == torch.bfloat16 and pipe.text_encoder.dtype == torch.bfloat16
    pipe = pipelines.load("sd15", CTX, use_safetensors=True)  # once a "multiple values" TypeError
    assert pipe.unet.dtype == CTX.dtype


def test_unknown_names_get_a_did_you_mean():
    with pytest.raises(ValueError, match="Did you mean 'sdxl'"):
        pipelines.load("sdx1", CTX)
    with pytest.raises(ValueError, match="did you mean 'variant'"):
        pipelines.load("sd15", CTX, varient="fp16")
    with pytest.raises(ValueError, match="did you mean 'sd15'"):
        signatures.full_size_on_meta("sd-15")
    with pytest.raises(ValueError, match="did you mean 'nv'"):
        seeds.a1111_latents(0, (4, 8, 8), source="NV")


def test_computed_size_refuses_keyword_typos_and_sizes_the_pipeline_refuses():
    pipe = signatures.full_size_on_meta("sdxl")
    assert "kwargs" in {p.name for p in signatures.call_parameters(pipe)}  # a typo would be ignored
    with pytest.raises(ValueError, match="no parameter 'heigth'.*did you mean 'height'"):
        signatures.computed_size(pipe, "p", heigth=512)
    with pytest.raises(ValueError, match=r"height=500, width=512.*divisible by 8"):
        signatures.computed_size(pipe, "p", height=500, width=512)
    with pytest.raises(TypeError, match="height"):
        signatures.computed_size(pipe, "p", height=512.0)
    assert signatures.computed_size(pipe, "p", height=512, width=768) == (512, 768)


def test_legal_input_still_works():
    assert plotting.to_array(torch.rand(3, 4, 5)).shape == (4, 5, 3)
    assert plotting.to_array(np.zeros((4, 5))).shape == (4, 5)
    assert plotting.to_array(Image.new("RGB", (5, 4))).shape == (4, 5, 3)
    plotting.image_grid([IMAGE, (IMAGE * 255).astype(np.uint8)], titles=["a", "b"], ncols=2)
    plotting.line_plot({"a": (torch.arange(3), torch.ones(3))}, "x", "y", logy=True)
    assert seeds.a1111_slerp(0.5, NOISE, NOISE.flip(0)).shape == NOISE.shape
    assert prompts.weight(Z, W, chunk_length=77).shape == Z.shape


def test_more_columns_than_images_warns():
    with pytest.warns(plotting.LayoutWarning, match="ncols=3 exceeds the 2 images"):
        plotting.image_grid([IMAGE, IMAGE], ncols=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", plotting.LayoutWarning)
        plotting.image_grid([IMAGE, IMAGE], ncols=2)
