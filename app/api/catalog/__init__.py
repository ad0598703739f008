"""GraphQL area: catalog."""
