"""moodcast models: the mood space, readers of frames, and ONNX model sessions."""
