"""Model runner: loads exported ONNX emulators (checking their feature schema) and steps them."""
