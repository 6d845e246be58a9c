"""The insight rules' thresholds, apart from the rules themselves: the company settings read
them (``salesradar settings``) on every command, without importing the rules and the models."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RuleSettings"]


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of every insight rule (money in the workspace currency, ₪ by default).

    Attributes
    ----------
    churn_min_probability
        churn_risk: churn probability at or above which a customer is flagged (0.4; on the
        demo company it keeps 4 of 5 flags on customers that really churned).
    churn_min_value
        churn_risk and no_repeat_order: minimum money at stake of the customer
        (``score_churn.value_at_stake``, a year's net purchases; 1,000).
    churn_max_days_since
        churn_risk: ignore customers silent for longer than this (``None``: no limit, so long
        lost customers come up as win-backs).
    churn_lost_days
        churn_risk: silent longer than this (and past its rhythm), a customer is worded as
        lost (a win-back) and its urgency halved; no_repeat_order: no alert after it (180).
    stopped_min_value
        stopped_item: minimum value at stake of a customer × SKU pair (500).
    stopped_max_insights
        stopped_item: at most this many pairs, biggest value first (200).
    cross_sell_min_value
        cross_sell: minimum expected yearly value of the top recommendation (1,000).
    cross_sell_min_buyers
        cross_sell: an offer's yearly worth is the median spend of the SKU's buyers of the
        last year; it is told only when at least this many customers bought it then (5, as
        many as an anchor SKU needs): the "median" of one or two buyers is their own spend,
        not what the SKU is worth to another customer.
    cross_sell_per_rep
        cross_sell: at most this many offers per rep, biggest first (5).
    anomaly_k, anomaly_min_drop
        active_customers_drop: robust-SD and relative-drop thresholds of
        :func:`~salesradar.models.anomalies.detect_anomalies` (3.0, 0.1).
    margin_min_base_share
        margin_erosion: the earlier quarter's costed revenue must be at least this share of the
        last quarter's (0.25): a margin on a few small lines is no baseline (Superstore had
        "alone took 48.0 points" against a $6.30 year-ago quarter).
    margin_min_drop
        margin_erosion: drop of a customer's gross margin, in margin points (0.03 = 3 points).
    margin_min_value
        margin_erosion: minimum gross profit lost in the quarter at the old margin (500).
    lead_sla_hours_centre, lead_sla_hours_account
        lead_not_contacted: hours a lead may wait for a first activity when its owner works in
        a sales centre (24) or as an account manager / unknown model (72).
    lead_max_age_days
        lead_not_contacted: ignore leads older than this (``None``: no limit).
    coverage_min
        pipeline_coverage_low: flag below this open pipeline ÷ remaining target (3.0).
    coverage_roll_days
        pipeline_coverage_low: with this many days or fewer left in the month, judge next
        month instead (3).
    coverage_models
        pipeline_coverage_low: rep operating models judged; a rep without a model counts as
        ``account`` (``("account",)``).
    forecast_tolerance
        forecast_at_risk: flag when actual + weighted pipeline < (1 − this) × forecast (0.1).
    forecast_min_elapsed_days
        forecast_at_risk: judge a month only from this day of it on (7).
    forecast_weights
        forecast_at_risk: weight of open deals by forecast category
        (commit 0.8, best_case 0.4, pipeline 0.1).
    concentration_threshold
        concentration: share of trailing-12-month revenue above which a customer is a risk
        (0.15; the design allows 0.15–0.20).
    single_thread_tiers
        single_threaded_account: tiers judged (``("A",)``).
    single_thread_top_n
        single_threaded_account: also judge the top-N customers by revenue (20).
    single_thread_models
        single_threaded_account: also judge every customer of reps with these operating
        models (``("account",)``: account managers' customers are key accounts).
    overdue_min_probability
        overdue_payments_at_risk: churn probability at or above which overdue money is
        flagged (0.3).
    overdue_min_amount
        overdue_payments_at_risk: minimum overdue unpaid amount (100).
    priority_value_cap
        Value at stake that gives the full value part of the priority (250,000).
    """

    churn_min_probability: float = 0.4
    churn_min_value: float = 1_000.0
    churn_max_days_since: int | None = None
    churn_lost_days: int = 180
    stopped_min_value: float = 500.0
    stopped_max_insights: int = 200
    cross_sell_min_value: float = 1_000.0
    cross_sell_min_buyers: int = 5
    cross_sell_per_rep: int = 5
    anomaly_k: float = 3.0
    anomaly_min_drop: float = 0.1
    margin_min_drop: float = 0.03
    margin_min_value: float = 500.0
    margin_min_base_share: float = 0.25
    lead_sla_hours_centre: float = 24.0
    lead_sla_hours_account: float = 72.0
    lead_max_age_days: int | None = None
    coverage_min: float = 3.0
    coverage_roll_days: int = 3
    coverage_models: tuple[str, ...] = ("account",)
    forecast_tolerance: float = 0.1
    forecast_min_elapsed_days: int = 7
    forecast_weights: tuple[tuple[str, float], ...] = (
        ("commit", 0.8), ("best_case", 0.4), ("pipeline", 0.1),
    )
    concentration_threshold: float = 0.15
    single_thread_tiers: tuple[str, ...] = ("A",)
    single_thread_top_n: int = 20
    single_thread_models: tuple[str, ...] = ("account",)
    overdue_min_probability: float = 0.3
    overdue_min_amount: float = 100.0
    priority_value_cap: float = 250_000.0
