"""Adapters of the domain's Scheduler port: EventBridge Scheduler on AWS, none where the store is swept."""
