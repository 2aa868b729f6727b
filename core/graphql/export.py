"""Print the GraphQL schema (SDL): `python -m core.graphql.export > schema.graphql`."""

from core.graphql.schema import schema

if __name__ == "__main__":
    print(schema.as_str())
