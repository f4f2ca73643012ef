"""Text to mood: the built-in sentence model (int8 MiniLM), its heads and labels."""
