"""The detection pipeline: events in from the bus, the rules in force run over each one (the
verdict), their effects carried out (labels, bank matches, cases, actions), dead letters kept
for replay, and the worker, its console page and its metrics."""
