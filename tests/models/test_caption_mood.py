from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import Mood, Taxonomy, load_taxonomy
from moodcast.models.text.caption_mood import CaptionMood


@pytest.mark.parametrize(
    ("caption", "moods"),
    [
        ("a crowd dancing at a party with loud music", {"energizing", "joyful", "amusing"}),
        ("two friends laughing at a beach bar", {"amusing", "joyful"}),
        ("a dark empty street at night in the rain", {"scary", "sad", "dreamy", "anxious"}),
        ("a man screaming angrily", {"defiant", "annoying", "anxious"}),
    ],
)
def test_captions_read_as_fitting_moods(tiny_models: Path, caption: str, moods: set[str]):
    reader = CaptionMood(tiny_models, load_taxonomy("cowen13"), "int8")
    estimate = reader.read(caption)
    assert estimate.mood in moods
    assert estimate.evidence["caption"] == caption


def test_party_is_livelier_and_happier_than_a_funeral(tiny_models: Path) -> None:
    reader = CaptionMood(tiny_models, load_taxonomy("moodsic5"), "int8")
    party = reader.read("people dancing and laughing at a party")
    funeral = reader.read("a crying woman at a funeral")
    assert party.valence > funeral.valence + 0.5
    assert funeral.mood == "sad"


def test_onnx_embeddings_match_the_original_model(tiny_models: Path) -> None:
    import torch
    from transformers import AutoModel

    from moodcast.models.export.text import SentenceGraph, minilm_dir

    graph = SentenceGraph(AutoModel.from_pretrained(str(minilm_dir())).eval())
    fp32 = CaptionMood(tiny_models, load_taxonomy("cowen13"), "fp32")
    int8 = CaptionMood(tiny_models, load_taxonomy("cowen13"), "int8")
    for text in ["a dog on the beach", "people at a concert", "an empty office at night"]:
        ids = torch.tensor([fp32.embed.tokenizer.encode(text).ids])
        with torch.no_grad():
            original = graph(ids, torch.ones_like(ids))[0].numpy()
        assert float(original @ fp32.embed(text)) > 0.9999
        cosine = float(original @ int8.embed(text)) / float(np.linalg.norm(int8.embed(text)))
        assert cosine > 0.98


def test_any_taxonomy_reads_and_a_damaged_model_is_refused(tiny_models: Path, tmp_path: Path):
    custom = Taxonomy("shop4", [Mood("calm", 0.4, -0.6, "calm", ("calm",)),
                                Mood("busy", 0.5, 0.6, "busy", ("busy",))])  # fmt: skip
    assert CaptionMood(tiny_models, custom).read("a crowd dancing at a party").mood == "busy"
    copy = tmp_path / "m"
    shutil.copytree(tiny_models, copy)
    manifest = json.loads((copy / "text_manifest.json").read_text())
    (copy / manifest["va_models"]["int8"]).write_bytes(b"tampered")
    with pytest.raises(MoodcastError, match="checksum"):
        CaptionMood(copy, load_taxonomy("cowen13"))


def test_the_built_in_text_model_needs_no_export(tmp_path: Path) -> None:
    from moodcast.models.text.caption_mood import SHIPPED_TEXT_MODEL

    reader = CaptionMood(None, load_taxonomy("cowen13"))
    assert reader.dir == SHIPPED_TEXT_MODEL
    assert (
        reader.read("a cat sleeping on a sofa next to a window").evidence["caption_quadrant"]
        == "HV-LA"
    )
    old = tmp_path / "old-export"  # a folder from before the valence/arousal model
    old.mkdir()
    (old / "text_manifest.json").write_text('{"kind": "caption-mood", "files": {}}')
    assert CaptionMood(old, load_taxonomy("cowen13")).dir == SHIPPED_TEXT_MODEL


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1234 5678",
        "?!",
        "x" * 5000,
        "un chat qui dort sur un canapé",
        "一只猫睡在沙发上",
        "a " * 1000,
    ],
)
def test_odd_text_reads_without_error_and_nothing_reads_with_no_confidence(text: str) -> None:
    reader = CaptionMood(None, load_taxonomy("cowen13"))
    estimate = reader.read(text)
    assert -1 <= estimate.valence <= 1 and -1 <= estimate.arousal <= 1
    assert 0 <= estimate.confidence <= 1
    assert abs(sum(estimate.probabilities.values()) - 1) < 1e-6
    if not text.strip() or text in {"1234 5678", "?!"}:
        assert estimate.confidence == 0


def test_the_top_mood_sits_in_the_reading_quadrant() -> None:
    from moodcast.models.text.caption_labels import quadrant_of

    taxonomy = load_taxonomy("cowen13")
    reader = CaptionMood(None, taxonomy)
    anchors = {m.name: quadrant_of(m.valence, m.arousal) for m in taxonomy.moods}
    for caption in ["a quiet bookshop", "a fight in a parking lot", "an empty gray street",
                    "children laughing on a slide", "a lonely man in the rain"]:  # fmt: skip
        estimate = reader.read(caption)
        assert anchors[estimate.mood] == quadrant_of(estimate.valence, estimate.arousal)


def test_a_trained_head_replaces_the_sentence_similarity(tiny_models: Path, tmp_path: Path):
    import subprocess
    import sys

    models = tmp_path / "models"
    shutil.copytree(tiny_models, models)
    rows = ["caption,mood"]
    for place in ["beach", "park", "kitchen", "street", "office", "garden"]:
        rows.append(f"people dancing wildly in the {place},energizing")
        rows.append(f"an empty {place} in grey morning light,calm")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "scripts/train_caption_head.py", str(models),
                          str(tmp_path / "labels.csv")], cwd=root, capture_output=True,
                         text=True, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "training accuracy 100%" in out.stdout
    reader = CaptionMood(models, load_taxonomy("cowen13"))
    assert reader.head is not None
    assert reader.read("people dancing wildly in the library").mood == "energizing"
    assert reader.read("an empty library in grey morning light").mood == "calm"
    with pytest.raises(MoodcastError, match="trained for other moods"):
        CaptionMood(models, load_taxonomy("cowen13").without(["scary"]))


def test_the_text_model_takes_the_configured_providers(tiny_models: Path, caplog) -> None:
    """reader.providers reaches the text model too: the installed ones, in order, and a
    warning naming those that are not installed."""
    wanted = ["NoSuchExecutionProvider", "CPUExecutionProvider"]
    with caplog.at_level("WARNING"):
        reader = CaptionMood(tiny_models, load_taxonomy("cowen13"), "int8", providers=wanted)
    assert reader.embed.session.get_providers() == ["CPUExecutionProvider"]
    assert "NoSuchExecutionProvider" in caplog.text


def test_reader_settings_reach_the_text_model(tiny_models: Path, monkeypatch) -> None:
    from moodcast.config.settings import load_config
    from moodcast.models import onnx_runtime, readers
    from moodcast.models.text import embedder as text_embedder

    seen: list[tuple[int, list[str]]] = []
    real = onnx_runtime.make_session

    def spy(path, threads, providers=("CPUExecutionProvider",), memory="default"):
        seen.append((threads, list(providers)))
        return real(path, threads, providers, memory)

    monkeypatch.setattr(text_embedder, "make_session", spy)
    providers = ["NoSuchExecutionProvider", "CPUExecutionProvider"]
    config = load_config(None, {"reader.kind": "caption", "reader.models_dir": str(tiny_models),
                                "reader.threads": 1, "reader.providers": providers})  # fmt: skip
    readers.build_reader(config, readers.active_taxonomy(config))
    assert seen and all(entry == (1, providers) for entry in seen)  # every text model
