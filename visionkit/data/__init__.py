"""Readers for the standard data formats, transforms, collate and validation."""
