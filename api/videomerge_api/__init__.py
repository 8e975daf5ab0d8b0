"""VideoMerge REST API: the seeds' contract over VideoMerge custom resources (see api/README.md)."""
