"""Signal values as banks store them: lowercase hex of a fixed length per type. Parsing is
strict, because a hash that is silently truncated or padded matches the wrong things. Each
type's rules are its class in `trustdesk.safety.signals.types`; these are the banks' names
for asking the process's registry."""

from __future__ import annotations

from trustdesk.safety.signals.types.registry import active


def parse_signal_type(name: str) -> str:
    """The stored name of the signal type `name`, if this instance uses it (the registry,
    from the `signal_types` setting); a clear error otherwise."""
    return active().parse(name).name


def normalise(signal_type: str, value: str) -> str:
    """The canonical form of `value`, or a clear error naming what is wrong with it."""
    return active().parse(signal_type).normalise(value)


def stored_value(signal_type: str, normalised: str) -> str:
    """What the entry's `value` column holds for a normalised value (the value, or for vPDQ
    its digest: `SignalKind.stored_value`)."""
    return active().parse(signal_type).stored_value(normalised)
