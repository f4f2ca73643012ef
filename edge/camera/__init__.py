"""The camera: its sources (a device, a file, a stream, a folder of images) and the
watchdog that reopens them."""
