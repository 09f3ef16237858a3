"""Perceptual and exact hashes of media, and the index that matches them."""
