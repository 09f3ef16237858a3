"""Reports: notices from users and trusted flaggers (Art. 16 and 22 DSA)."""
