"""GraphQL area: credit pools and their ledger."""
