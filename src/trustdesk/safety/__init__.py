"""Trust & safety domains: signals (media hashing and matching), review, enforcement."""
