"""The emergency lane: removal orders on a one-hour clock, threat-to-life notifications, and the
console where on-call sees and acknowledges their pages (the pager itself, which every domain
pages through, is core/paging)."""
