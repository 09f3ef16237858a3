"""Lawful requests: the authority registry, the instrument catalogue, intake, checks, clocks
and workflow. Issue 4 (policy, disclosure) builds on `service.get_request`, `list_requests`
and `transition`."""
