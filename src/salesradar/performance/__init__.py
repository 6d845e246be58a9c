"""Sales performance management: scorecards, targets and pacing, forecast, funnel, commissions."""
