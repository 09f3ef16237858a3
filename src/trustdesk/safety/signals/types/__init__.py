"""Signal types as classes, one module each, chosen by the `signal_types` setting (see
registry.py and docs/hash-matching.md, "Adding a signal type")."""
