"""videomerge_notifier: delivers the completion webhook of each VideoMerge that asks for one.

A process of its own (``videomerge-notifier``) because it calls URLs that users chose: it holds only what
delivery needs (read VideoMerges, patch their status, create Events, the signing secret as a file).
"""
