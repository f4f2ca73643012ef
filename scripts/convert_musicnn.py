"""Convert the pretrained musicnn taggers (PyPI ``musicnn`` 0.1.0, ISC) to ONNX, once.

TensorFlow lives only in this script's own environment, never at run time:

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow==2.21.0 tf-keras==2.21.0 tf2onnx onnx onnxruntime \\
        librosa soundfile
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python scripts/convert_musicnn.py \\
        --out models/musicnn --reference tests/data/musicnn_reference.npz [--music FILE ...]

Writes ``msd_musicnn.onnx`` and ``mtt_musicnn.onnx`` (input: [N, 187, 96] log-mel patches;
outputs: 50 tag probabilities and the 200-d penultimate embedding), ``manifest.json`` with
sha256 sums, and a reference file: a synthetic clip, its log-mel computed by librosa in
float32, and the original TensorFlow model's outputs for it, so that tests can prove parity
without TensorFlow. Upstream casts the mel spectrogram to float16 before the log, which
overflows on real music and yields NaN patches; this script (and moodcast) stay in float32.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import librosa
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

from musicnn import configuration as mconf  # noqa: E402
from musicnn import models as mmodels  # noqa: E402

N_FRAMES = 187
MODELS = {
    "msd_musicnn": ("MSD_musicnn", mconf.MSD_LABELS),
    "mtt_musicnn": ("MTT_musicnn", mconf.MTT_LABELS),
}


def reference_clip(seconds: float = 7.0, sr: int = 16000) -> Any:
    """A deterministic test clip with chords, a bass line and noise-burst drums."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(1234)
    clip = np.zeros_like(t)
    for i, root in enumerate([220.0, 261.63, 196.0, 246.94, 220.0, 293.66, 261.63]):
        seg = (t >= i) & (t < i + 1)
        for ratio in (1.0, 1.25, 1.5):
            clip[seg] += 0.12 * np.sin(2 * np.pi * root * ratio * t[seg])
        clip[seg] += 0.2 * np.sin(2 * np.pi * root / 2 * t[seg])
    for beat in np.arange(0, seconds, 0.25):
        start = int(beat * sr)
        n = int(0.05 * sr)
        clip[start : start + n] += (
            0.3 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.01 * sr))
        )
    clip /= np.abs(clip).max() * 1.1
    return (clip * 32767).astype(np.int16)


def log_mel(audio: np.ndarray, sr: int) -> Any:
    mel = librosa.feature.melspectrogram(
        y=audio, sr=sr, hop_length=mconf.FFT_HOP, n_fft=mconf.FFT_SIZE, n_mels=mconf.N_MELS
    ).T.astype(np.float32)
    return np.log10(10000 * mel + 1).astype(np.float32)


def patches(rep: np.ndarray) -> np.ndarray:
    starts = range(0, rep.shape[0] - N_FRAMES + 1, N_FRAMES)
    return np.stack([rep[s : s + N_FRAMES] for s in starts]).astype(np.float32)


def build(name: str, folder: str, labels: list[str]) -> Any:
    tf.compat.v1.reset_default_graph()
    graph = tf.compat.v1.get_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, mconf.N_MELS], name="logmel")
        out = mmodels.define_model(x, False, folder, len(labels))
        logits, penultimate = out[0], out[-1]
        probs = tf.nn.sigmoid(logits, name="tags")
        embedding = tf.identity(penultimate, name="embedding")
    sess = tf.compat.v1.Session(graph=graph)
    saver = tf.compat.v1.train.Saver()
    saver.restore(sess, str(Path(mmodels.__file__).parent / folder) + "/")
    return sess, x, probs, embedding


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    import tf2onnx

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--music", type=Path, nargs="*", default=[], help="real music to compare")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clip = reference_clip()
    rep = log_mel(clip.astype(np.float32) / 32768.0, mconf.SR)
    batch = patches(rep)
    reference: dict[str, np.ndarray] = {"audio_int16": clip, "logmel": rep}
    manifest: dict[str, object] = {
        "source": "PyPI musicnn 0.1.0 (Pons & Serra, ISC licence), converted with tf2onnx",
        "input": {"name": "logmel", "shape": ["N", N_FRAMES, mconf.N_MELS], "sr": mconf.SR,
                  "hop": mconf.FFT_HOP, "n_fft": mconf.FFT_SIZE, "n_mels": mconf.N_MELS},
        "models": {},
    }  # fmt: skip
    for name, (folder, labels) in MODELS.items():
        sess, x, probs, embedding = build(name, folder, labels)
        tags, emb = sess.run([probs, embedding], {x: batch})
        reference[f"{name}_tags"], reference[f"{name}_embedding"] = tags, emb
        for music in args.music:
            audio, sr = librosa.load(music, sr=mconf.SR)
            fixed = sess.run(probs, {x: patches(log_mel(audio, sr))})
            mel16 = librosa.feature.melspectrogram(
                y=audio, sr=sr, hop_length=mconf.FFT_HOP, n_fft=mconf.FFT_SIZE, n_mels=mconf.N_MELS
            ).T.astype(np.float16)
            upstream = np.log10(10000 * mel16 + 1)
            bad = (~np.isfinite(patches(upstream.astype(np.float32)))).any(axis=(1, 2)).mean()
            top = [labels[i] for i in np.argsort(-fixed.mean(0))[:5]]
            print(f"{name} {music.name}: upstream float16 preprocessing: {bad:.0%} non-finite "
                  f"patches; float32 top tags: {top}")  # fmt: skip
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            sess, sess.graph.as_graph_def(), ["model/tags", "model/embedding"]
        )
        path = args.out / f"{name}.onnx"
        tf2onnx.convert.from_graph_def(
            frozen,
            input_names=["model/logmel:0"],
            output_names=["model/tags:0", "model/embedding:0"],
            opset=17,
            output_path=str(path),
        )
        manifest["models"][name] = {  # type: ignore[index]
            "file": path.name, "sha256": sha256(path), "bytes": path.stat().st_size,
            "labels": list(labels), "outputs": ["model/tags:0", "model/embedding:0"],
        }  # fmt: skip
        sess.close()
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    np.savez_compressed(args.reference, **reference)  # type: ignore[arg-type]
    print(f"wrote {args.out / 'manifest.json'} and {args.reference}")


if __name__ == "__main__":
    main()
