"""Resale: a collector lists a token held in custody; another buyer pays by card; royalties to every creator."""
