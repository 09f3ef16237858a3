"""The emergency lane: removal orders on a one-hour clock, threat-to-life notifications, and the
paging that wakes the on-call person for both."""
