"""Privacy (GDPR): export my data, delete my account. Above every domain it reads and asks to forget."""
