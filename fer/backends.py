"""Which Keras backend trains a run: TensorFlow (the app's own), JAX or PyTorch.

Keras 3 runs the same model code on all three, so a student whose GPU only PyTorch or JAX can
use (Windows has had no TensorFlow GPU build since 2.10; a Mac's GPU is reached through
PyTorch's MPS) still trains with this engine. The choice is made per training: its worker
process (`fer.worker`) sets `KERAS_BACKEND` before Keras is first imported. Whatever the backend,
the model is saved as `.keras`, which the app (always TensorFlow) opens and exports.

The device choice is made in the environment too, before the backend starts: `cpu` hides the
GPUs from JAX (`JAX_PLATFORMS=cpu`) and PyTorch (`KERAS_TORCH_DEVICE=cpu`); `gpu` refuses to
start when no GPU is found instead of quietly using the CPU.
"""

from __future__ import annotations

import importlib.util
import os
import threading

from fer.events import error, sentence
from fer.i18n import N_

BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
# What to install for each, in the words of its own documentation (shown through _()).
INSTALL = {
    "tensorflow": N_("pip install tensorflow (Linux GPUs: pip install 'tensorflow[and-cuda]')"),
    "jax": N_("pip install jax jaxlib (NVIDIA GPUs: pip install 'jax[cuda12]')"),
    "torch": N_("pip install torch (see pytorch.org for the build that matches your GPU; Macs get MPS)"),
}
_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


class BackendError(ValueError):
    """A backend that is not installed or unknown; the message names the package to install."""


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise error(BackendError, N_("The backend {backend} is unknown: use one of {backends}."),
                    backend=repr(backend), backends=", ".join(BACKENDS))
    if importlib.util.find_spec(_MODULES[backend]) is None:
        raise error(BackendError, N_("The {backend} backend is not installed in this Python: {install}, then start "
                                     "the training again (or choose another backend)."),
                    backend=BACKENDS[backend], install=sentence(INSTALL[backend]))


def installed_backends() -> list[str]:
    return [name for name, module in _MODULES.items() if importlib.util.find_spec(module) is not None]


def environment_for(backend: str, device: str) -> dict[str, str]:
    """Variables a worker sets before importing Keras, so the backend and device are as asked."""
    check_backend(backend)
    variables = {"KERAS_BACKEND": backend}
    if device == "cpu":
        variables.update({"JAX_PLATFORMS": "cpu", "KERAS_TORCH_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": ""}
                         if backend != "tensorflow" else {})
    return variables


def current_backend() -> str:
    import keras

    return keras.backend.backend()


def versions() -> dict[str, str]:
    """The version of each backend installed here (without importing the heavy ones twice)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("tensorflow", "jax", "torch"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def apply_environment(backend: str, device: str) -> None:
    """Set the variables of `environment_for` in this process (call before importing Keras)."""
    os.environ.update(environment_for(backend, device))


_IMPORT_LOCK = threading.Lock()


def import_keras_once():
    """Import Keras (and TensorFlow under it) one thread at a time; later calls return at once.

    A server runs each session's page in a thread of its own. In the thirty-student benchmark, the
    second session to open a page that imports Keras never finished it (two threads importing
    TensorFlow at the same moment), while the others waited about 45 s for the first import.
    """
    with _IMPORT_LOCK:
        import keras

    return keras
