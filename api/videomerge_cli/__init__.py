"""``videomerge`` (also ``kubectl-videomerge``): a terminal client of the VideoMerge API or cluster."""
