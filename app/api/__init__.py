"""The GraphQL transport: schema, context, loaders, errors, one subpackage per area."""
