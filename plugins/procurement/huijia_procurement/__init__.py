"""Huijia plugin procurement."""
