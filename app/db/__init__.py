"""Persistence: Tortoise models, configuration and tenant-scoped queries."""
