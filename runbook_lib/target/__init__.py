"""The one counter model (Target) and where each of its fields comes from."""
