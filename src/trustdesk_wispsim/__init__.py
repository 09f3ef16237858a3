"""The WISP simulator: a separate process that plays the Member State side of the EU
e-Evidence system (ETSI TS 104 144 over TS 103 120) for tests, benchmarks and `make run`.

It is its own top-level package on purpose (issue #17, item 5): it imports nothing from
`trustdesk`, and its message builders and rule checks are written apart from the provider's
adapter (`trustdesk.legal.eevidence`), so that a misreading of the standard on one side is
caught by the other instead of being shared. tests/wispsim/test_independence.py checks it."""
