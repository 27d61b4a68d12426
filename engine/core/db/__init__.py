"""Database schema, connections and the prepared statements of the hot path."""
