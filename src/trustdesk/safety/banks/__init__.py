"""Hash banks: named lists of known-bad (or known-innocent) media signals, the in-process
matcher over them, the stored hashes of every upload (for retroaction), and the flood guard
that pauses automatic action on an entry that suddenly matches far too much."""
