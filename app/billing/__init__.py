"""The billing core: every amount the service bills, as pure functions over frozen dataclasses.

Imports only the standard library and ``iso4217``. No database, no clock, no GraphQL.
"""
