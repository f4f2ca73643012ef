"""Listening to tracks: decoding, features, loudness and the musicnn tagger."""
