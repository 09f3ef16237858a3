"""Disclosure: what the platform holds, retrieved category by category; four-eyes approval;
signed, hashed packages delivered to the requesting officer alone; preservation and legal
holds; user notice; and the numbers for transparency."""
