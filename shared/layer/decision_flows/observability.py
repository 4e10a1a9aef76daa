"""The one Logger every function uses (service name and level come from the environment)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger()
