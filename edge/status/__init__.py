"""What the device says about itself: the typed state and its view, problems by kind,
health, and the runtime state kept across restarts."""
