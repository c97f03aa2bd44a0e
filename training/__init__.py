"""Offline training sidecar (never imported by the daemon): align, tensorise, train, export ONNX."""
