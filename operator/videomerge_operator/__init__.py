"""videomerge_operator."""
