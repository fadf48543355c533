"""The chain indexer: our contracts' events, read from the chain into the database, and who owns each token now."""
