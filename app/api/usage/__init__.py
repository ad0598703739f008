"""GraphQL area: usage ingestion (recordUsage) and one-time charges (postCharge)."""
