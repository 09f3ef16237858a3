"""Transparency reports derived from Trustdesk's own records, never typed in by hand: the DSA
transparency report (Arts. 15 and 24, harmonised templates of Implementing Regulation (EU)
2024/2835), the government-request report per country, and their publication."""
