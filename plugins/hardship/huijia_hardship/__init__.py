"""Huijia plugin hardship."""
