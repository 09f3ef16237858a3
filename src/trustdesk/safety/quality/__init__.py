"""Quality of decisions: sampling rules, blind re-review, a senior's final label, and the
figures measured from them (agreement, precision of automated means by version, overturn on
appeal, time to decision) that the console, the API, the CSV and the DSA report read."""
