"""The checks behind :mod:`engine.scoring`, one concern per module.

Every check is plain text arithmetic (n-grams, regular expressions) so that a
student can reproduce a verdict by hand and nothing is downloaded: no
embedding model, no judge model.
"""
