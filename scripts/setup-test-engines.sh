#!/usr/bin/env bash
# What the KPI suite needs beyond Python packages (tests/metrics/conftest.py runs every KPI on
# DuckDB, on a real PostgreSQL server and on Spark):
#   - PostgreSQL comes from the `pgserver` package (in the `test` extra); the tests start it;
#   - Spark (pyspark, local mode) needs a Java runtime: installed here with apt when missing.
set -euo pipefail

if ! command -v java >/dev/null 2>&1; then
    echo "Java not found: installing openjdk-17-jre-headless for Spark" >&2
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
fi
