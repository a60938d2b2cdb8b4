"""Schemathesis hooks for scripts/api_fuzz.py (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

# GeoTIFF uploads are raw bytes: send what was generated as the body, like octet-stream.
schemathesis.serializer.alias("image/tiff", "application/octet-stream")
