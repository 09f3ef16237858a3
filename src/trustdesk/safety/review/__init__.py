"""Review: queues, cases, claims, decisions, appeals, reviewer preferences."""
