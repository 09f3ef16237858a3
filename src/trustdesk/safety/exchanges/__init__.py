"""Exchanges: hash lists fetched through python-threatexchange's `SignalExchangeAPI` (NCMEC,
StopNCII, Tech Against Terrorism, ThreatExchange, local files, the library's sample) into
banks, resumable from a stored checkpoint."""
