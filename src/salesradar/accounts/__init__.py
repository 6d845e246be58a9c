"""Strategic account management: account plans, contacts, profitability, risk, quarterly review."""
