"""User-facing errors.

Every failure a user can cause (a bad file, a wrong name, a prompt that is too
long) is raised as a :class:`TalabError` whose message is one complete line.
The CLI and the GUI show that line and nothing else, so the message must name
the file, field or number the user has to fix.
"""

from __future__ import annotations


class TalabError(Exception):
    """Base class: an error whose message is meant for the user."""


class ModelError(TalabError):
    """A GGUF model that is missing, corrupt or unsupported."""


class AdapterError(TalabError):
    """A LoRA adapter that is missing or does not fit the loaded model."""


class MergeError(TalabError):
    """A merge of adapters that cannot be made: bad weights, density, or adapters that do not fit together."""


class KBError(TalabError):
    """An invalid course knowledge base or other YAML input."""


class PersonaError(TalabError):
    """An unknown or unavailable persona."""


class ProbeError(TalabError):
    """An invalid or empty probe set."""


class ContextOverflowError(TalabError):
    """A prompt that does not fit the model's context window."""

    def __init__(self, prompt_tokens: int, n_ctx: int, what: str = "prompt") -> None:
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx
        super().__init__(
            f"The {what} is {prompt_tokens} tokens but the context window holds {n_ctx}; "
            f"shorten it or raise --n-ctx."
        )


class StoreError(TalabError):
    """A database that cannot be opened or was written by a newer TA Lab."""


class Cancelled(TalabError):
    """The user cancelled a long-running job; finished work is kept."""


class ServerError(TalabError):
    """A serving engine (llama-server, vLLM) that cannot be reached or does not answer as expected."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status  # the HTTP status, when the server answered at all
        super().__init__(message)
