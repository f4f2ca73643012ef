"""Exporting models to ONNX (torch and transformers: never at run time)."""
