"""moodcast player: library database, tagging, track selection and playback."""
