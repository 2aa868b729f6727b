"""Huijia plugin mutual_aid."""
