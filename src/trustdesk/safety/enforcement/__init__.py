"""Enforcement: actions on the platform, strikes, statements of reasons, CyberTipline drafts."""
