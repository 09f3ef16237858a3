"""The rule language of the pipeline: parsing and compiling rule files (`language.py`,
`conditions.py`, `effects.py`), the rule book that loads and reloads them while the pipeline
runs, the automation policy that bounds what a rule may do alone, and backtests over stored events."""
