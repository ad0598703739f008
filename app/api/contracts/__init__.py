"""GraphQL area: contracts."""
