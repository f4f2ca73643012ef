"""Token ids → text for the caption decoder: BERT's WordPiece detokenizer from a table.

Decoding a caption only needs the id → token table and two rules, the ones the ``tokenizers``
library's WordPiece decoder applies: a token starting with ``##`` joins the word before it,
any other is preceded by a space; with ``cleanup``, the space before punctuation and
contractions goes. A loaded ``tokenizers.Tokenizer`` for the 30,522-token BERT vocabulary
holds ~8 MB of resident memory; the table here holds ~2 MB, and the captioner uses the
library only to encode its prompt once.
"""

from __future__ import annotations

from pathlib import Path

from moodcast.config.errors import MoodcastError
from moodcast.config.text import parse_json

# tokenizers' decoders::wordpiece::cleanup, in its order.
_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"),
            (" 're", "'re"))  # fmt: skip


class WordPieceText:
    """``tokenizers.Tokenizer.decode(ids)`` (special tokens skipped) for WordPiece files."""

    def __init__(self, tokenizer_json: Path) -> None:
        try:
            spec = parse_json(tokenizer_json.read_text(encoding="utf-8"))
            decoder = spec.get("decoder") or {}
            vocab: dict[str, int] = spec["model"]["vocab"]
            added = spec.get("added_tokens") or []
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MoodcastError(f"{tokenizer_json} is not a readable tokenizer file ({exc})",
                                "export the models again") from exc  # fmt: skip
        if decoder.get("type") != "WordPiece":
            raise MoodcastError(
                f"{tokenizer_json} has a {decoder.get('type')!r} decoder, not WordPiece",
                "export a BLIP checkpoint (its tokenizer is BERT's WordPiece)",
            )
        self.prefix: str = decoder.get("prefix", "##")
        self.cleanup: bool = bool(decoder.get("cleanup", True))
        size = max([*vocab.values(), *(int(t["id"]) for t in added)], default=-1) + 1
        self.tokens: list[str | None] = [None] * size
        for token, index in vocab.items():
            self.tokens[index] = token
        for token in added:  # added tokens take precedence, as in tokenizers
            self.tokens[int(token["id"])] = token["content"]
        self.special = frozenset(int(t["id"]) for t in added if t.get("special"))

    def __call__(self, ids: list[int]) -> str:
        pieces: list[str] = []
        for index in ids:
            token = self.tokens[index] if 0 <= index < len(self.tokens) else None
            if token is None or index in self.special:
                continue
            if pieces:  # the first token keeps its prefix, as in tokenizers
                joins = token.startswith(self.prefix)
                token = token[len(self.prefix) :] if joins else " " + token
            if self.cleanup:
                for dirty, clean in _CLEANUP:
                    token = token.replace(dirty, clean)
            pieces.append(token)
        return "".join(pieces)
