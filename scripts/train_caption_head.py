"""Train a caption → mood head from labelled captions (CSV with columns caption, mood).

    .venv/bin/python scripts/train_caption_head.py MODELS_DIR captions.csv [--taxonomy cowen13]

Embeds the captions with the exported MiniLM model, trains a softmax-regression head in numpy
and saves it as MODELS_DIR/head.<taxonomy>.npz; the caption reader then uses it instead of
the mood-sentence similarity. Prints the training accuracy. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.models.mood import load_taxonomy  # noqa: E402
from moodcast.models.text.caption_head import read_labelled, softmax, train  # noqa: E402
from moodcast.models.text.caption_mood import CaptionMood  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", type=Path)
    parser.add_argument("csv", type=Path)
    parser.add_argument("--taxonomy", default="cowen13")
    args = parser.parse_args()
    taxonomy = load_taxonomy(args.taxonomy)
    reader = CaptionMood(args.models, taxonomy, use_head=False)
    captions, labels = read_labelled(args.csv, taxonomy.names)
    x = np.stack([reader.embed(c) for c in captions])
    w, b = train(x, labels, len(taxonomy.names))
    accuracy = float((softmax(x @ w + b).argmax(axis=1) == np.array(labels)).mean())
    target = args.models / f"head.{taxonomy.name}.npz"
    np.savez(target, weights=w, bias=b, moods=np.array(taxonomy.names))
    print(f"trained on {len(captions)} captions, training accuracy {accuracy:.0%}; wrote {target}")


if __name__ == "__main__":
    main()
