"""The moodcast command: its parser and verbs."""
