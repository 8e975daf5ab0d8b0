"""videomerge_worker."""
