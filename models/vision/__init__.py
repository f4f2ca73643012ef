"""Reading frames: the ImageNet classifier and the fitted fusion of the scene reader's cues."""
