"""The demo sector: `marketplace seed` (and `make run` on an empty database) fills the marketplace with
organisations, creators, works, sales, resales, calls and payouts through the product's own services."""
