"""Trustdesk: the trust & safety back office of a messaging platform."""

__version__ = "0.1.0"
