"""Fine-tuning: KB → training pairs → LoRA (PEFT, CPU) → GGUF adapter for llama.cpp.

Training runs in a subprocess (``python -m engine.finetune.train``) so torch's
memory and any crash stay out of the app, and cancel is a terminate.
"""
