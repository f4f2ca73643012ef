"""Commands from outside (MQTT, the page, a fleet): parsed into typed objects and gated."""
