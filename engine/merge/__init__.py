"""Model merging: combine adapters into a new adapter (TIES, DARE, linear), offline, on ΔW.

Run-time task arithmetic needs no code here: a persona that lists several adapters
with scales (or the ``stack:a+b*-0.5`` id) has llama.cpp add ``Σ sᵢ·(αᵢ/rᵢ)·BᵢAᵢ``.
"""
