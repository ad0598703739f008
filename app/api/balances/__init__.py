"""GraphQL area: balances."""
