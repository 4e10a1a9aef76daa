"""Operators' commands for a deployed stack or a local store (never shipped in the Lambda layer)."""
