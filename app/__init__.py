"""The commitments service: usage-based billing commitments over GraphQL."""
