"""Matrix Synapse as the moderated platform: a Synapse module (`module.py`, loaded inside
Synapse, stdlib and Synapse imports only) and the port adapter on Synapse's admin API
(`adapter.py`, inside Trustdesk). Importing this package imports neither."""
