"""The GraphQL object, input and enum types, one module per part of the domain.

Apart from the roots (api.queries, api.mutations, api.subscriptions) so each stays readable
on its own; api.schema assembles them.
"""
