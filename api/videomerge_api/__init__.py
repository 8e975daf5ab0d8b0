"""videomerge_api."""
