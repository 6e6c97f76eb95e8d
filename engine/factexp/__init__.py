"""The one-fact experiment (``talab fact-experiment``): one new fact taught four ways, measured.

A system-prompt line, a LoRA fine-tuned on the fact and a few paraphrases, a ROME
edit, and Base unchanged as the control, scored with CounterFact-style metrics
from llama.cpp's own log-probabilities (:mod:`engine.logprobs`).
"""
