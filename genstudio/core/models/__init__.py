"""What every family's model shares: the `GenerativeModel` interface and common building blocks."""
