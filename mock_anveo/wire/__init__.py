"""Anveo's wire format: hardened XML and query parsing, the action registry, replies rendered."""
