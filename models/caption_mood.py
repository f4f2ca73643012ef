"""Caption → mood on the device: sentence embeddings compared with each mood's sentences."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moodcast.config.errors import MoodcastError
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.onnx_runtime import Manifest, make_session


class CaptionMood:
    """Reads a caption into a :class:`MoodEstimate` for the active taxonomy."""

    def __init__(
        self,
        models_dir: Path,
        taxonomy: Taxonomy,
        precision: str = "int8",
        threads: int = 1,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        temperature: float = 0.05,
        use_head: bool = True,
    ) -> None:
        from tokenizers import Tokenizer

        self.dir = Path(models_dir).expanduser()
        manifest = Manifest(self.dir / "text_manifest.json", "caption-mood",
                            "run 'moodcast models export --out DIR'")  # fmt: skip
        entry = manifest.get("taxonomies", {}).get(taxonomy.name)
        if entry is None:
            raise MoodcastError(
                f"the caption→mood model in {self.dir} has no mood sentences for taxonomy "
                f"{taxonomy.name!r} (it has {', '.join(manifest['taxonomies'])})",
                "export the models again with this taxonomy, or use the scene reader",
            )
        name = "text.int8.onnx" if precision == "int8" else "text.onnx"
        self.session = make_session(manifest.file(name), threads, providers, "malloc")
        self.tokenizer = Tokenizer.from_file(str(manifest.file("text_tokenizer.json")))
        vectors = np.load(manifest.file(entry["file"]))
        self.taxonomy = taxonomy
        self.moods = [m for m in taxonomy.names if m in vectors.files]
        self.vectors = [vectors[m] for m in self.moods]
        self.temperature = temperature
        self.head = self._load_head(taxonomy) if use_head else None

    def _load_head(self, taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray] | None:
        """A head trained by scripts/train_caption_head.py, when there is one for this taxonomy."""
        path = self.dir / f"head.{taxonomy.name}.npz"
        if not path.is_file():
            return None
        data = np.load(path)
        if tuple(str(m) for m in data["moods"]) != taxonomy.names:
            raise MoodcastError(f"{path} was trained for other moods than {taxonomy.name!r}",
                                "train the head again for this taxonomy")  # fmt: skip
        return data["weights"], data["bias"]

    def embed(self, text: str) -> np.ndarray:
        enc = self.tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        (vector,) = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return np.asarray(vector[0], dtype=np.float32)

    def read(self, caption: str) -> MoodEstimate:
        vector = self.embed(caption)
        sims = np.array([float((v @ vector).max()) for v in self.vectors])
        if self.head is not None:
            from moodcast.models.caption_head import softmax

            weights = softmax(vector @ self.head[0] + self.head[1])
            moods = list(self.taxonomy.names)
        else:
            weights = np.exp((sims - sims.max()) / self.temperature)
            moods = self.moods
        probs = dict(zip(moods, (weights / weights.sum()).tolist(), strict=True))
        anchors = [self.taxonomy.get(m) for m in moods]
        valence = float(sum(p * a.valence for p, a in zip(probs.values(), anchors, strict=True)))
        arousal = float(sum(p * a.arousal for p, a in zip(probs.values(), anchors, strict=True)))
        confidence = float(min(1.0, max(0.0, (sims.max() - np.median(sims)) * 5)))
        evidence: dict[str, float | int | str] = {
            "caption": caption,
            "caption_similarity": round(float(sims.max()), 4),
        }
        return MoodEstimate(valence, arousal, probs, confidence, evidence)
