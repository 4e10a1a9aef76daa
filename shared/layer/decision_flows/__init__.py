"""Versioned decision flows: the shared package of every Lambda function of the service."""
