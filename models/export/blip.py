"""Export a BLIP captioner to ONNX Runtime graphs (needs the ``[export]`` extra: torch).

Two graphs:
- ``encoder``: pixels → the image embeddings (one row per patch), computed once per image;
- ``decoder``: the new tokens' word-embedding rows + one past key and one past value per layer
  + the image embeddings → last-position logits and the present K/V. The decoder forward is
  re-implemented over the model's own weights, so transformers' changing cache classes do not
  matter. The LM head is written as ``F.linear(h, word_embeddings)``.

Cross-attention reads the image embeddings through its key/value weights ("absorbed", as
in multi-head latent attention): ``q·(E·Wk)ᵀ = (q·Wk_h)·Eᵀ`` per head, and the key bias drops
out of the softmax. The decoder then holds one 1.7 MB embedding instead of every layer's cross
keys and values (40.6 MB at 384 px for blip-base), for ~1 ms more per token, and the encoder
no longer projects them (13 % of its work).

The word-embedding table is written beside the graphs (``embeddings*.npy``) and the runtime
reads one row per token from the file: inside the graph ONNX Runtime memory-maps it, and the
kernel then keeps 2 MB resident for every row touched (23 MB of int8 after a few captions).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from moodcast.models.onnx_runtime import sha256

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "Salesforce/blip-image-captioning-base"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class EncoderGraph(nn.Module):
    """Pixels → image embeddings (BLIP's vision model).

    The patch embedding, a convolution whose stride equals its kernel, is written as a matrix
    product over the image's patches: quantized, it runs as an int8 MatMul instead of
    ConvInteger, which ONNX Runtime does not optimise (12 ms of the 384 px encoder here).
    """

    def __init__(self, model: Any, interpolate: bool) -> None:
        super().__init__()
        self.vision = model.vision_model
        self.interpolate = interpolate

    def _embed(self, pixels: Tensor) -> Tensor:
        emb = self.vision.embeddings
        conv = emb.patch_embedding
        size = conv.kernel_size[0]
        b, c, height, width = pixels.shape
        rows, cols = height // size, width // size
        patches = pixels.reshape(b, c, rows, size, cols, size).permute(0, 2, 4, 1, 3, 5)
        flat = patches.reshape(b, rows * cols, c * size * size)
        x = flat @ conv.weight.reshape(conv.out_channels, -1).t() + conv.bias
        x = torch.cat([emb.class_embedding.expand(b, 1, -1), x], dim=1)
        if self.interpolate:
            positions = emb.interpolate_pos_encoding(x, height, width)
        else:
            positions = emb.position_embedding
        embedded: Tensor = x + positions[:, : x.shape[1]]
        return embedded

    def forward(self, pixel_values: Tensor) -> Tensor:
        hidden = self.vision.encoder(inputs_embeds=self._embed(pixel_values))[0]
        image: Tensor = self.vision.post_layernorm(hidden)
        return image


class DecoderGraph(nn.Module):
    """One decoding step for one image (batch 1: a camera reads one frame at a time).

    Fixing the batch lets every reshape use constant shapes, which removes hundreds of
    Shape/Gather/Unsqueeze nodes that would otherwise run at every generated token.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        bert = model.text_decoder.bert
        self.embeddings = bert.embeddings
        self.layers = bert.encoder.layer
        self.head = model.text_decoder.cls.predictions
        self.heads = model.config.text_config.num_attention_heads
        self.hidden = model.config.text_config.hidden_size
        # One-hot over heads: spreads each head's query over its own block of the key weight
        # and picks each head's block back out of the value product.
        self.register_buffer("diagonal", torch.eye(self.heads)[:, None, :, None])

    def _split(self, x: Tensor) -> Tensor:
        return x.reshape(1, -1, self.heads, self.hidden // self.heads).transpose(1, 2)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
        scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(self.hidden // self.heads))
        if mask is not None:
            scores = scores + mask
        return (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(1, -1, self.hidden)

    def _cross(self, attention: Any, a: Tensor, image: Tensor) -> Tensor:
        """Cross-attention over the image embeddings ``image`` (patches, hidden), absorbed.

        Per head h: scores = (q_h · Wk_h) · imageᵀ (the key bias is the same for every patch,
        so the softmax ignores it) and output = (p_h · image) · Wv_hᵀ + bv_h (p sums to 1).
        """
        heads, width = self.heads, self.hidden // self.heads
        steps = a.shape[1]
        # spread[h, s] holds step s's query of head h in head h's block, zeros elsewhere.
        q = attention.query(a).reshape(1, steps, heads, width)
        spread = (q * self.diagonal).reshape(heads, steps, self.hidden)
        q_image = spread @ attention.key.weight  # (h, s, hidden): q_h · Wk_h
        scores = q_image @ image.transpose(0, 1) * (1.0 / math.sqrt(width))
        mixed = torch.softmax(scores, dim=-1) @ image  # (h, s, hidden)
        full = (mixed @ attention.value.weight.t()).reshape(heads, steps, heads, width)
        # Head h's own block of its values, summed over h: (s, h, w) with no transpose.
        out = (full * self.diagonal).sum(dim=0) + attention.value.bias.reshape(heads, width)
        result: Tensor = out.reshape(1, steps, self.hidden)
        return result

    def forward(self, inputs_embeds: Tensor, patches: Tensor, *past: Tensor) -> tuple[Tensor, ...]:
        """``patches``: the image embeddings of the one image, (patches, hidden)."""
        past_len = past[0].shape[2]
        steps = inputs_embeds.shape[1]
        positions = torch.arange(steps, device=inputs_embeds.device) + past_len
        emb = self.embeddings
        h = emb.LayerNorm(inputs_embeds + emb.position_embeddings(positions))
        # Causal mask for the new positions over all keys (past + new).
        key_pos = torch.arange(past_len + steps, device=inputs_embeds.device)
        mask = (key_pos[None, :] > positions[:, None]).float() * torch.finfo(h.dtype).min
        present: list[Tensor] = []
        for i, layer in enumerate(self.layers):
            sa = layer.attention.self
            q = self._split(sa.query(h))
            k = torch.cat([past[2 * i], self._split(sa.key(h))], dim=2)
            v = torch.cat([past[2 * i + 1], self._split(sa.value(h))], dim=2)
            present += [k, v]
            attn = self._attend(q, k, v, mask)
            a = layer.attention.output(attn, h)
            c = layer.crossattention.output(self._cross(layer.crossattention.self, a, patches), a)
            h = layer.output(layer.intermediate(c), c)
        last = self.head.transform(h[:, -1])
        logits = F.linear(last, emb.word_embeddings.weight, self.head.bias)
        return (logits, *present)


def greedy_reference(
    model: Any, pixel_values: Tensor, prompt_ids: list[int], new: int
) -> list[int]:
    """Token ids from transformers' own greedy generate, for parity checks."""
    cfg = model.config.text_config
    ids = torch.tensor([[cfg.bos_token_id, *prompt_ids, cfg.sep_token_id]])
    with torch.no_grad():
        out = model.generate(pixel_values=pixel_values, input_ids=ids, max_new_tokens=new,
                             do_sample=False, num_beams=1)  # fmt: skip
    return [int(t) for t in out[0]]


def export(model: Any, out: Path, image_size: int, tokenizer_json: str, source: str,
           quantize: bool = True, fp16: bool = False) -> dict[str, Any]:  # fmt: skip
    """Write encoder/decoder graphs (fp32, int8, optionally fp16), tokenizer and manifest."""
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    cfg = model.config
    t = cfg.text_config
    n, heads = t.num_hidden_layers, t.num_attention_heads
    head_dim = t.hidden_size // heads
    native = cfg.vision_config.image_size
    pixels = torch.randn(2, 3, image_size, image_size)
    encoder = EncoderGraph(model, interpolate=image_size != native)
    kv_names = [f"{kind}.{i}" for i in range(n) for kind in ("key", "value")]
    with torch.no_grad():
        image = encoder(pixels)
    torch.onnx.export(
        encoder, (pixels,), out / "encoder.onnx", input_names=["pixel_values"],
        output_names=["image"], opset_version=17, dynamo=False,
        dynamic_axes={"pixel_values": {0: "batch"}, "image": {0: "batch"}},
    )  # fmt: skip
    past = [torch.zeros(1, heads, 3, head_dim) for _ in range(2 * n)]
    decoder = DecoderGraph(model)
    with torch.no_grad():
        rows = decoder.embeddings.word_embeddings(torch.tensor([[t.bos_token_id, 5]]))
    axes: dict[str, dict[int, str]] = {"inputs_embeds": {1: "steps"}}
    axes.update({f"past_{x}": {2: "past"} for x in kv_names})
    axes.update({f"present_{x}": {2: "total"} for x in kv_names})
    torch.onnx.export(
        decoder, (rows, image[0], *past), out / "decoder.onnx",
        input_names=["inputs_embeds", "image", *[f"past_{x}" for x in kv_names]],
        output_names=["logits", *[f"present_{x}" for x in kv_names]],
        opset_version=17, dynamo=False, dynamic_axes=axes,
    )  # fmt: skip
    files = ["encoder.onnx", "decoder.onnx"]
    files += write_embeddings(decoder.embeddings.word_embeddings.weight, out)
    if quantize:
        files += quantize_int8(out, ["encoder", "decoder"])
    if fp16:
        files += half_precision(out, ["encoder", "decoder"])
    (out / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    files.append("tokenizer.json")
    manifest = {
        "kind": "blip-captioner",
        "cross_attention": "absorbed",
        "source": source,
        "image_size": image_size,
        "mean": list(CLIP_MEAN),
        "std": list(CLIP_STD),
        "layers": n,
        "heads": heads,
        "head_dim": head_dim,
        "arena_bytes": encoder_working_set(cfg.vision_config, image_size),
        "bos_token_id": t.bos_token_id,
        "sep_token_id": t.sep_token_id,
        "pad_token_id": t.pad_token_id,
        "files": {f: {"sha256": sha256(out / f), "bytes": (out / f).stat().st_size} for f in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def encoder_working_set(vision: Any, image_size: int) -> int:
    """Bytes the encoder's activations need at most, with room: one layer's attention scores,
    its MLP's hidden activations and a few hidden states (ONNX Runtime's arena starts with a
    region this big, models.onnx_runtime.share_arena)."""
    tokens = (image_size // vision.patch_size) ** 2 + 1
    heads, hidden = vision.num_attention_heads, vision.hidden_size
    floats = heads * tokens * tokens + tokens * vision.intermediate_size + 6 * tokens * hidden
    return int(4 * floats)


def write_embeddings(weight: Tensor, out: Path) -> list[str]:
    """The word-embedding table as float32 rows, and as int8 rows with one scale per row."""
    table = weight.detach().numpy().astype(np.float32)
    np.save(out / "embeddings.npy", table)
    scales = np.maximum(np.abs(table).max(axis=1), 1e-12) / 127.0
    np.save(out / "embeddings.int8.npy", np.round(table / scales[:, None]).astype(np.int8))
    np.save(out / "embeddings.int8.scales.npy", scales.astype(np.float32))
    return ["embeddings.npy", "embeddings.int8.npy", "embeddings.int8.scales.npy"]


def quantize_int8(out: Path, names: list[str]) -> list[str]:
    """Dynamic int8, per channel (FINDINGS: per-tensor loses too much).

    The weights go to a separate ``.data`` file: ONNX Runtime then maps them from the file
    instead of holding the parsed protobuf and the tensors at once, which cut the peak memory
    of loading the 384 px base model by about 100 MB here.
    """
    import onnx

    written = []
    for name in names:
        target = out / f"{name}.int8.onnx"
        quantize_file(out / f"{name}.onnx", target)
        model = onnx.load(str(target))
        data = f"{name}.int8.onnx.data"
        onnx.save_model(
            model, str(target), save_as_external_data=True, all_tensors_to_one_file=True,
            location=data, size_threshold=1024,
        )  # fmt: skip
        written += [target.name, data]
    return written


def half_precision(out: Path, names: list[str]) -> list[str]:
    """fp16 graphs for a GPU (CUDA/TensorRT on a Jetson), where int8 MatMulInteger has no kernel.

    Pixels and embedding rows in and logits out stay float32; the image embeddings and the
    past keys/values become float16, so the encoder's output feeds the decoder as it is and
    takes half the memory. LayerNorm and Softmax keep float32 accumulation inside ONNX
    Runtime's kernels.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    written = []
    for name in names:
        model = onnx.load(str(out / f"{name}.onnx"))
        keep = ["pixel_values", "inputs_embeds", "logits"]
        half = convert_float_to_float16(model, keep_io_types=keep)
        target = out / f"{name}.fp16.onnx"
        onnx.save_model(half, str(target))
        written.append(target.name)
    return written


def quantize_file(source: Path, target: Path) -> None:
    """Dynamic int8 per-channel quantization, with ORT's chatty root-logger output silenced.

    ``reduce_range``: 7-bit weights. On x86 CPUs without VNNI, ONNX Runtime's u8×s8 kernels
    add pairs of products in int16, which saturate with full-range weights; measured on this
    project's AVX2 test machine (tiny BLIP, tests/models/test_captioner.py): int8 captions equal
    to PyTorch's 1/7 with full range, 4/7 with reduce_range. It costs a bit of precision where
    nothing saturates (ARM, VNNI), and avoids a silent loss of quality where it would.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            source, target, per_channel=True, weight_type=QuantType.QInt8, reduce_range=True
        )
    finally:
        root.setLevel(level)


def tiny_tokenizer_json() -> str:
    """A small WordPiece tokenizer (BERT-style, uncased) for tiny test models."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    words = [
        "a", "an", "the", "of", "in", "on", "at", "with", "and", "two", "three", "people",
        "person", "man", "woman", "dog", "cat", "car", "street", "beach", "room", "table",
        "bright", "dark", "sunny", "night", "party", "crowd", "sitting", "standing", "walking",
        "smiling", "laughing", "red", "blue", "green", "yellow", "white", "black", "picture",
        "photo", "group", "small", "large", "old", "young", "city", "park", "water", "tree",
        "sky", "light", "lamp",
    ]  # fmt: skip
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(words), "[DEC]"]
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"])
    return str(tok.to_str())


def tiny_blip(vocab_size: int, seed: int = 0, image_size: int = 64) -> Any:
    """A small random BLIP whose captions depend on the image (weights scaled for that)."""
    from transformers import BlipConfig, BlipForConditionalGeneration

    torch.manual_seed(seed)
    config = BlipConfig(
        vision_config={"image_size": image_size, "patch_size": 16, "hidden_size": 32,
                       "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
        text_config={"vocab_size": vocab_size, "hidden_size": 32, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "intermediate_size": 64, "encoder_hidden_size": 32,
                     "bos_token_id": vocab_size - 1, "sep_token_id": 3, "pad_token_id": 0,
                     "eos_token_id": 3, "max_position_embeddings": 64},
    )  # fmt: skip
    model = BlipForConditionalGeneration(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        # BLIP initialises vision weights with std 1e-10: the image would not reach the
        # caption at all. Give the vision tower and the cross-attention real weights.
        for p in model.vision_model.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.15)
        for layer in model.text_decoder.bert.encoder.layer:
            for name, p in layer.crossattention.named_parameters():
                if p.dim() >= 2:
                    p.mul_(8.0)
                elif "LayerNorm.weight" in name:
                    p.fill_(3.0)
    return model


def load_pretrained(model_id: str) -> tuple[Any, str]:
    """A captioning checkpoint (hub id or local folder) and its tokenizer as JSON."""
    from transformers import BlipForConditionalGeneration, BlipProcessor

    processor = BlipProcessor.from_pretrained(model_id)
    model = BlipForConditionalGeneration.from_pretrained(model_id)
    return model, processor.tokenizer.backend_tokenizer.to_str()  # type: ignore[attr-defined]


def preprocess_reference(image_rgb: np.ndarray, size: int) -> Tensor:
    """BLIP's processor steps with PIL, for parity checks."""
    from PIL import Image

    img = Image.fromarray(image_rgb).resize((size, size), Image.Resampling.BICUBIC)
    scaled = np.asarray(img, dtype=np.float32) / 255.0
    arr = (scaled - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return torch.from_numpy(arr.transpose(2, 0, 1)[None].copy())
