"""The built-in demo platform: a Telegram-like messenger with its own database, which
Trustdesk moderates through the platform port exactly as it will a real server."""

from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.posting import Posting
from trustdesk.platform.demo.seed import DemoCast, seed_demo

__all__ = ["DemoCast", "DemoPlatform", "Posting", "seed_demo"]
