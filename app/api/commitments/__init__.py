"""GraphQL area: commitments."""
