"""GraphQL area: invoices (read only: a close writes them)."""
