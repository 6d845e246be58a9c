"""Whale curve and price-volume-mix on the hand-made workspace, on every engine."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesradar.errors import UserInputError
from salesradar.metrics import parse_period, price_volume_mix, whale_curve, whale_summary


def test_whale_curve(backend: Any) -> None:
    # profitability Jan–Mar (see test_kpis): c1 97, c2 79, c4 15, c3 -12
    # cumulative 97, 176, 191, 179: the peak is at rank 3 (75% of customers make 191/179 of
    # the profit, c3 gives 12 back)
    curve = whale_curve(backend, date(2024, 1, 1), date(2024, 3, 31), persist=False)
    assert curve["customer_id"].to_pylist() == ["c1", "c2", "c4", "c3"]
    assert curve["cumulative_profit"].to_pylist() == pytest.approx([97, 176, 191, 179])
    assert curve["is_peak"].to_pylist() == [False, False, True, False]
    summary = whale_summary(curve)
    assert summary["peak_rank"] == 3
    assert summary["peak_customer_share"] == 0.75
    assert summary["peak_profit_share"] == pytest.approx(191 / 179)


def test_whale_curve_is_persisted(backend: Any) -> None:
    whale_curve(backend, date(2024, 1, 1), date(2024, 3, 31))
    assert backend.table("mart_whale_curve").count().execute() == 4


def test_pvm_by_product(backend: Any) -> None:
    # Jan: s1 q 10+20 = 30, R 300, C 180; s2 q 5, R 50, C 20; s3 q 1, R 20, C 15 (Q_A = 36)
    # Feb: s1 q 12+10 = 22, R 230, C 132; s2 q 4-1 = 3, R 30, C 12; s3 q 3, R 60, C 45 (Q_B = 28)
    # growth Q_B/Q_A − 1 = −2/9.
    # s1: price (230/22 − 10) × 22 = 10; volume 300 × −2/9 = −66.667; mix −70 − 10 + 66.667
    # s3: price 0 (20 → 20); volume 20 × −2/9 = −4.444; mix 40 + 4.444 = 44.444
    # GP s1: 120 → 98; unit cost 6 → 6, cost effect 0; volume 120 × −2/9; mix −22 − 10 + 26.667
    pvm = price_volume_mix(backend, "2024-01", "2024-02", by="product")
    rows = {r["sku"]: r for r in pvm.to_pylist()}
    s1, s3 = rows["s1"], rows["s3"]
    assert s1["revenue_change"] == pytest.approx(-70)
    assert s1["price_effect"] == pytest.approx(10)
    assert s1["volume_effect"] == pytest.approx(-600 / 9)
    assert s1["mix_effect"] == pytest.approx(-80 + 600 / 9)
    assert s3["mix_effect"] == pytest.approx(40 + 40 / 9)
    assert s1["gp_cost_effect"] == pytest.approx(0)
    assert s1["gp_volume_effect"] == pytest.approx(-240 / 9)
    assert s1["gp_mix_effect"] == pytest.approx(-32 + 240 / 9)
    # totals: revenue 370 → 320 = −50 = price 10 + volume 370 × −2/9 + mix
    assert sum(pvm["revenue_change"].to_pylist()) == pytest.approx(-50)
    assert sum(pvm["volume_effect"].to_pylist()) == pytest.approx(-740 / 9)
    # largest change first: s3 +40... s1 −70 is the largest in absolute value
    assert pvm["sku"][0].as_py() == "s1"


def test_pvm_by_customer_uses_customer_and_sku_items(backend: Any) -> None:
    # c2: Jan s1 20 @ 10 = 200; Feb s1 10 @ 11 = 110 and s2 4 @ 10 = 40. Price effect on
    # (c2, s1) = (11 − 10) × 10 = 10; (c2, s2) is new → all mix
    pvm = {r["customer_id"]: r for r in price_volume_mix(
        backend, "2024-01", "2024-02", by="customer").to_pylist()}
    assert pvm["c2"]["price_effect"] == pytest.approx(10)
    assert pvm["c2"]["revenue_change"] == pytest.approx(-50)


def test_parse_period() -> None:
    assert parse_period("2024-Q2") == (date(2024, 4, 1), "quarter")
    assert parse_period("2024-03") == (date(2024, 3, 1), "month")
    assert parse_period("2024") == (date(2024, 1, 1), "year")
    with pytest.raises(UserInputError, match="cannot read period"):
        parse_period("March")


def test_pvm_rejects_mixed_grains(duckdb_backend: Any) -> None:
    with pytest.raises(UserInputError, match="is a month but"):
        price_volume_mix(duckdb_backend, "2024-01", "2024-Q1")
    with pytest.raises(UserInputError, match="must be one of"):
        price_volume_mix(duckdb_backend, "2024-01", "2024-02", by="colour")


def test_pvm_refuses_a_period_the_data_end_inside(backend: Any) -> None:
    # the hand-made lines end on 15/03/2024: March holds 15 of its 31 days, and the first
    # quarter 75 of 91; comparing either with a whole period is refused, with the dates
    with pytest.raises(UserInputError, match=r"--to-period 2024-03 is not whole.*15/03/2024, "
                       r"15 of its 31 days.*2024-02"):
        price_volume_mix(backend, "2024-02", "2024-03")
    with pytest.raises(UserInputError, match="75 of its 91 days"):
        price_volume_mix(backend, "2023-Q4", "2024-Q1")
