"""GraphQL area: tenancy."""
