"""The pretrained musicnn taggers (Pons & Serra, ISC licence) converted to ONNX.

Files here: ``msd_musicnn.onnx``, ``mtt_musicnn.onnx``, ``manifest.json`` (sha256 sums and tag
labels) and the upstream ``LICENSE.md``. Made once by ``scripts/convert_musicnn.py``.
"""
