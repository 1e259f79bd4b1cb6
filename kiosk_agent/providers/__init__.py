"""Adapters for outside libraries and services; vendor imports live only here."""
