"""MQTT: the link to the broker, its client options and Home Assistant discovery."""
