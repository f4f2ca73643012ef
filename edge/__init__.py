"""moodcast edge: daemon, camera, scheduler, smoothing and MQTT."""
