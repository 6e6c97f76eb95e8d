"""Model editing: change one fact with a rank-one update (ROME), delivered as a rank-1 LoRA.

``spec`` checks the request before any torch work; ``rome`` computes the update
against the dequantised GGUF; ``worker`` is the subprocess that runs it with
JSON-line progress and writes the adapter; ``registry`` lists, disables,
enables and deletes edits and turns them into ``edit:NAME`` personas.
"""
