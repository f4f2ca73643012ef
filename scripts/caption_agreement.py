"""Compare fp32 captions with int8 (or fp16) ones on a folder of photos, with real weights.

Run after 'moodcast models export --out DIR' (add --fp16 for the GPU graphs) with a real
checkpoint:
    .venv/bin/python scripts/caption_agreement.py DIR PHOTO_FOLDER [--prompt "a picture of"]
        [--against fp16 --providers CUDAExecutionProvider CPUExecutionProvider]
Prints each photo's two captions and the share that agree exactly and by word overlap.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.models.readers import load_photo  # noqa: E402
from moodcast.models.vision.captioner import BlipCaptioner  # noqa: E402

SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", type=Path)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--prompt", default="")
    parser.add_argument("--against", choices=["int8", "fp16"], default="int8")
    parser.add_argument("--providers", nargs="+", default=["CPUExecutionProvider"])
    args = parser.parse_args()
    fp32 = BlipCaptioner(args.models, "fp32", prompt=args.prompt, providers=args.providers)
    other = BlipCaptioner(args.models, args.against, prompt=args.prompt, providers=args.providers)
    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in SUFFIXES)
    if not photos:
        sys.exit(f"no photos in {args.photos}")
    exact, overlap = 0, 0.0
    for photo in photos:
        frame = load_photo(photo)
        a, b = fp32(frame), other(frame)
        exact += a.tokens == b.tokens
        words_a, words_b = set(a.text.split()), set(b.text.split())
        union = words_a | words_b
        overlap += len(words_a & words_b) / len(union) if union else 1.0
        print(f"{photo.name}\n  fp32: {a.text}\n  {args.against}: {b.text}")
    n = len(photos)
    print(f"\n{n} photos: identical captions {exact}/{n} ({exact / n:.0%}), "
          f"mean word overlap (Jaccard) {overlap / n:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
