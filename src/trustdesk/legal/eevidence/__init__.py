"""The EU e-Evidence channel (Regulation (EU) 2023/1543 Art. 19): the provider's side of WISP,
ETSI TS 104 144 over the HI-1 objects of TS 103 120. See docs/e-evidence.md and service.py."""
