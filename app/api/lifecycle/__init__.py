"""GraphQL area: activation, period close and credit movements."""
