"""Worker tests need nothing beyond the huijia.testing fixtures; the members helpers give ID numbers."""
