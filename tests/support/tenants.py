"""The tenants the tests act for: the conftest's callers belong to them, and tests name them."""

TENANT_A = "tenant-a"
TENANT_B = "tenant-b"
