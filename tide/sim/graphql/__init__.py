"""The simulated GitHub's GraphQL API: the endpoint, static analysis (limits and cost), search,
and the resolvers over the world."""
