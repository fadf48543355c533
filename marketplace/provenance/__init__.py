"""Provenance: a token's history and an account's activity, read from the chain index and joined with the
marketplace's own records (what a sale cost)."""
