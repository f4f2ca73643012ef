"""Measure caption → mood on the labelled captions, fp32 against int8, into docs/caption-mood.md.

    .venv/bin/python scripts/eval_caption_mood.py [--out docs/caption-mood.md] [--seeds 5]

Exports the text model in both precisions to a temporary folder (the [export] extra, no
download), then for each: 10-fold cross-validation on the dev captions (each fold trained on
the other nine and on captions_extra.tsv), repeated over several fold shuffles; and the same
the other way round on captions_extra.tsv, a second held-out set. The first shuffle's
confusion matrix, confidence table and wrong readings are written out in full.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from moodcast.models.export.text import export_text_model
from moodcast.models.mood import load_taxonomy
from moodcast.models.text import caption_eval, caption_training
from moodcast.models.text.caption_labels import read_labelled
from moodcast.models.text.caption_mood import MoodVocabulary
from moodcast.models.text.embedder import TextEmbedder, text_manifest

ROOT = Path(__file__).resolve().parent.parent
DEV = caption_training.DATA_DIR / "captions_dev.tsv"
EXTRA = caption_training.DATA_DIR / "captions_extra.tsv"


def run(folder: Path, precision: str, seeds: int) -> tuple[list[str], list[str]]:
    taxonomy = load_taxonomy("cowen13")
    embed = TextEmbedder(text_manifest(folder), precision)
    vocabulary = MoodVocabulary(taxonomy, embed)
    dev, extra = read_labelled(DEV), read_labelled(EXTRA)
    dv, ev = embed.many([r.caption for r in dev]), embed.many([r.caption for r in extra])
    summary, detail = [], []
    for name, rows, vec, other, ov in (("dev", dev, dv, extra, ev), ("extra", extra, ev, dev, dv)):
        results = [caption_eval.cross_validate(rows, vec, vocabulary, taxonomy, other, ov, 10,
                                               seed)
                   for seed in range(seeds)]  # fmt: skip
        q = np.array([r.quadrant for r in results])
        agree = np.array([r.mood_in_quadrant for r in results])
        summary.append(f"| {name} ({len(rows)}) | {precision} | {q.mean():.3f} "
                       f"({q.min():.3f}–{q.max():.3f}) | {results[0].valence:.3f} | "
                       f"{results[0].arousal:.3f} | {agree.mean():.3f} |")  # fmt: skip
        if name == "dev":
            detail.append(caption_eval.report(results[0], f"dev, {precision}, fold shuffle 0"))
    return summary, detail


def select(folder: Path) -> list[str]:
    """The hyperparameter grid, scored by 10-fold cross-validation on captions_extra.tsv
    alone (the dev captions play no part in the choice)."""
    from moodcast.models.text import caption_va

    extra = read_labelled(EXTRA)
    pleasant = np.array([r.pleasant for r in extra])
    lively = np.array([r.lively for r in extra])
    vectors = {p: TextEmbedder(text_manifest(folder), p).many([r.caption for r in extra])
               for p in ("fp32", "int8")}  # fmt: skip
    lines = ["| ridge | sharpness | fp32 | int8 |", "|---|---|---|---|"]
    for ridge in (0.1, 0.3, 1.0):
        for sharpness in (0.5, 1.0, 2.0):
            scores = []
            for precision in ("fp32", "int8"):
                x, right = vectors[precision], []
                order = np.random.default_rng(0).permutation(len(extra))
                for fold in np.array_split(order, 10):
                    rest = np.setdiff1d(order, fold)
                    model = caption_va.fit(x[rest], pleasant[rest], lively[rest], ridge, sharpness)
                    s = model.scores(x[fold])
                    right += list(
                        ((s[:, 0] > 0) == pleasant[fold]) & ((s[:, 1] > 0) == lively[fold])
                    )
                scores.append(f"{np.mean(right):.3f}")
            lines.append(f"| {ridge} | {sharpness} | " + " | ".join(scores) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "caption-mood.md")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export_text_model(Path(tmp))
        rows = [run(Path(tmp), p, args.seeds) for p in ("fp32", "int8")]
        grid = select(Path(tmp))
    table = ["| held out (captions) | precision | quadrant, mean (range) over shuffles | valence | "
             "arousal | top mood in quadrant |", "|---|---|---|---|---|---|"]  # fmt: skip
    table += [line for summary, _ in rows for line in summary]
    details = [block for _, detail in rows for block in detail]
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    marker = "<!-- measured -->"
    head = text.split(marker)[0] if marker in text else "# Caption → mood\n\n"
    body = "\n".join([marker, "", *table, "", "Hyperparameters, 10-fold cross-validation on "
                       "captions_extra.tsv alone (quadrant accuracy of the scores' signs):", "",
                       *grid, "", *details, ""])  # fmt: skip
    args.out.write_text(head + body, encoding="utf-8")
    print("\n".join(table))


if __name__ == "__main__":
    main()
