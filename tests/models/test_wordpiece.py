from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.text.wordpiece import WordPieceText


def _bert_tokenizer_json() -> Path:
    from moodcast.models.export.text import minilm_dir

    return minilm_dir() / "tokenizer.json"


def _tiny_tokenizer_json(tmp_path: Path) -> Path:
    from moodcast.models.export.blip import tiny_tokenizer_json

    path = tmp_path / "tokenizer.json"
    path.write_text(tiny_tokenizer_json())
    return path


@pytest.mark.parametrize("which", ["bert", "tiny"])
def test_captions_decode_exactly_as_the_tokenizers_library(which: str, tmp_path) -> None:
    from tokenizers import Tokenizer

    path = _bert_tokenizer_json() if which == "bert" else _tiny_tokenizer_json(tmp_path)
    reference = Tokenizer.from_file(str(path))
    ours = WordPieceText(path)
    size = len(ours.tokens)
    # Punctuation, contractions and continuation pieces are where the rules bite: draw them
    # often, beside any token of the vocabulary, the special ones and ids beyond it.
    tricky = [i for i, t in enumerate(ours.tokens) if t and (not t.isalnum() or t in
              ("n", "t", "m", "s", "ve", "re", "do", "not", "'"))]  # fmt: skip
    rng = random.Random(0)
    for _ in range(3000):
        ids = [rng.choice(tricky) if rng.random() < 0.4 else rng.randrange(size + 3)
               for _ in range(rng.randrange(1, 14))]  # fmt: skip
        assert ours(ids) == reference.decode(ids), ids
    words = reference.encode("a man isn't sitting, he's standing . don't go ! a ' b").ids
    assert ours(words) == reference.decode(words)


def test_a_tokenizer_of_another_kind_is_refused(tmp_path) -> None:
    spec = json.loads(_tiny_tokenizer_json(tmp_path).read_text())
    spec["decoder"] = {"type": "ByteLevel"}
    (tmp_path / "bpe.json").write_text(json.dumps(spec))
    with pytest.raises(MoodcastError, match="not WordPiece"):
        WordPieceText(tmp_path / "bpe.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(MoodcastError, match="not a readable tokenizer"):
        WordPieceText(tmp_path / "broken.json")
