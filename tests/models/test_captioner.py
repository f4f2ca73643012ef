from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.vision.captioner import BlipCaptioner

COLOURS = [(250, 20, 20), (20, 250, 20), (20, 20, 250), (240, 240, 240), (10, 10, 10),
           (200, 120, 30)]  # fmt: skip


def images() -> list[np.ndarray]:
    frames = [np.full((80, 100, 3), c, np.uint8) for c in COLOURS]
    gradient = np.zeros((80, 100, 3), np.uint8)
    gradient[..., 2] = np.linspace(0, 255, 100, dtype=np.uint8)[None]
    return [*frames, gradient]


@pytest.fixture(scope="module")
def reference_model(tiny_models: Path):
    import torch

    from moodcast.models.export import blip as blip_export

    tokenizer = blip_export.tiny_tokenizer_json()
    model = blip_export.tiny_blip(len(json.loads(tokenizer)["model"]["vocab"]))
    model.load_state_dict(torch.load(tiny_models / "tiny_blip.pt"))
    return model


def reference_tokens(model, frame_bgr: np.ndarray, prompt_ids: list[int], new: int) -> list[int]:
    import torch

    from moodcast.models.export.blip import preprocess_reference

    pixels = preprocess_reference(np.ascontiguousarray(frame_bgr[..., ::-1]), 64)
    cfg = model.config.text_config
    ids = torch.tensor([[cfg.bos_token_id, *prompt_ids, cfg.sep_token_id]])
    with torch.no_grad():
        out = model.generate(pixel_values=pixels, input_ids=ids, max_new_tokens=new,
                             min_new_tokens=3, do_sample=False, num_beams=1)  # fmt: skip
    return [int(t) for t in out[0][1 + len(prompt_ids) :]]


@pytest.mark.parametrize("prompt", ["", "a picture of"])
def test_fp32_greedy_tokens_equal_transformers_generate(tiny_models, reference_model, prompt):
    captioner = BlipCaptioner(tiny_models, "fp32", threads=1, prompt=prompt,
                              max_new_tokens=10, min_new_tokens=3)  # fmt: skip
    ours = [captioner(img).tokens for img in images()]
    theirs = [reference_tokens(reference_model, img, captioner.prompt_ids, 10) for img in images()]
    assert ours == theirs
    assert len({tuple(t) for t in ours}) >= 5  # the image really changes the caption


def test_int8_agreement_is_reported(tiny_models, reference_model, capsys) -> None:
    captioner = BlipCaptioner(tiny_models, "int8", threads=1, max_new_tokens=10,
                              min_new_tokens=3)  # fmt: skip
    same = sum(
        captioner(img).tokens == reference_tokens(reference_model, img, [], 10) for img in images()
    )
    with capsys.disabled():
        print(f"\nint8 vs PyTorch fp32 greedy captions identical: {same}/{len(images())}")
    assert same >= len(images()) // 2


def test_fp16_graphs_for_a_gpu_caption_like_fp32(tiny_models, capsys) -> None:
    """The fp16 export (meant for CUDA/TensorRT) checked where it can be: ONNX Runtime's CPU."""
    fp32 = BlipCaptioner(tiny_models, "fp32", threads=1, max_new_tokens=10, min_new_tokens=3)
    fp16 = BlipCaptioner(tiny_models, "fp16", threads=1, max_new_tokens=10, min_new_tokens=3)
    assert fp16.kv_dtype is np.float16
    pixels = fp32.preprocess(images()[-1])
    full = fp32.encoder.run(None, {"pixel_values": pixels})[0]
    half = fp16.encoder.run(None, {"pixel_values": pixels})[0]
    assert half.dtype == np.float16  # the image embeddings stay half precision into the decoder
    assert np.abs(half.astype(np.float32) - full).max() < 5e-3 * np.abs(full).max()
    same = sum(fp16(img).tokens == fp32(img).tokens for img in images())
    with capsys.disabled():
        print(f"\nfp16 vs fp32 ONNX greedy captions identical: {same}/{len(images())}")
    assert same >= len(images()) - 1


def test_fp16_without_fp16_graphs_says_how_to_export_them(tiny_models, tmp_path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(tiny_models, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for name in ("encoder.fp16.onnx", "decoder.fp16.onnx"):
        del manifest["files"][name]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MoodcastError, match="no fp16 graphs") as err:
        BlipCaptioner(copy, "fp16")
    assert "--fp16" in err.value.fix


def test_preprocessing_equals_blips_processor(tiny_models) -> None:
    from moodcast.models.export.blip import preprocess_reference

    frame = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    ours = BlipCaptioner(tiny_models, "fp32", threads=1).preprocess(frame)
    theirs = preprocess_reference(np.ascontiguousarray(frame[..., ::-1]), 64).numpy()
    assert np.array_equal(ours, theirs)


def test_damaged_missing_and_foreign_model_files_are_refused(tiny_models, tmp_path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(tiny_models, copy)
    data = bytearray((copy / "decoder.int8.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "decoder.int8.onnx").write_bytes(bytes(data))
    with pytest.raises(MoodcastError, match="does not match its manifest checksum"):
        BlipCaptioner(copy, "int8")
    (copy / "encoder.onnx").unlink()
    with pytest.raises(MoodcastError, match="is missing"):
        BlipCaptioner(copy, "fp32")
    with pytest.raises(MoodcastError, match="no readable model manifest"):
        BlipCaptioner(tmp_path / "nothing")


def test_a_missing_execution_provider_falls_back_with_a_log(tiny_models, caplog) -> None:
    captioner = BlipCaptioner(tiny_models, "fp32", providers=["TensorrtExecutionProvider",
                                                               "CPUExecutionProvider"])  # fmt: skip
    assert captioner.encoder.get_providers() == ["CPUExecutionProvider"]
    assert any(r.levelname == "WARNING" and "TensorrtExecutionProvider" in r.getMessage()
               for r in caplog.records)  # the one skipped is named  # fmt: skip


def test_graphs_of_an_older_export_are_refused_with_the_fix(tiny_models, tmp_path) -> None:
    """Before the absorbed cross-attention the decoder took every layer's cross keys/values."""
    import onnx
    from onnx import TensorProto, helper

    from moodcast.models.onnx_runtime import sha256

    copy = tmp_path / "m"
    shutil.copytree(tiny_models, copy)
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 2, None, 16])
              for n in ("inputs_embeds", "past_key.0", "cross_key.0")]  # fmt: skip
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Identity", ["inputs_embeds"], ["logits"])],
                              "old", inputs, [logits])  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(copy / "decoder.onnx"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["decoder.onnx"]["sha256"] = sha256(copy / "decoder.onnx")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MoodcastError, match="older export") as err:
        BlipCaptioner(copy, "fp32")
    assert "models export" in err.value.fix
