"""Pipeline stages, one module per stage, in pipeline order."""
