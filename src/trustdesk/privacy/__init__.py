"""Privacy: the data map, retention by data category, the rights of the people in the data
(access, erasure, restriction) and the record of processing (GDPR Art. 30), issue #21.

A domain above all the others (tests/test_layering.py's DOMAIN_ORDER): it reads every room's
tables through the data map, and no room imports it back."""
