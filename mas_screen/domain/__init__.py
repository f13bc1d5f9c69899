"""The domain: pydantic models of the contract (input, assessment, series), units and their conversion."""
