"""Safety signals: media hashing and hash matching, the compute core under banks and exchanges."""
