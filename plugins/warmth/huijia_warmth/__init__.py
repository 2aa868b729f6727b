"""Huijia plugin warmth."""
