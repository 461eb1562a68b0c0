"""What a Keras backend can compute on here, and where a training runs for a device choice.

`auto` takes every GPU when there is one (with TensorFlow, mirrored across several), else the
CPU; `cpu` forces the CPU even on a GPU machine (handy to compare speeds); `gpu` insists on a
GPU and says so in a sentence when there is none, rather than quietly using the CPU. Under JAX
and PyTorch one GPU is used (Apple's MPS counts as one), and the CPU is chosen through the
environment before the backend starts (`fer.backends.environment_for`).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from fer.events import english, error, sentence
from fer.i18n import N_

DEVICE_CHOICES = ("auto", "cpu", "gpu")


class DeviceError(ValueError):
    """A device choice this machine cannot honour; the message says what to pick instead."""


@dataclass(frozen=True)
class Device:
    name: str  # TensorFlow's logical name, e.g. "/device:GPU:0"
    kind: str  # "CPU" or "GPU"
    description: str  # in English
    said: dict | None = None  # the description as a sentence to translate (fer.events.shown); None: a name


def list_devices() -> list[Device]:
    import tensorflow as tf

    devices = []
    for physical in tf.config.list_physical_devices():
        if physical.device_type not in ("CPU", "GPU"):
            continue
        index = physical.name.rsplit(":", 1)[-1]
        name = f"/device:{physical.device_type}:{index}"
        said = None
        if physical.device_type == "GPU":
            details = tf.config.experimental.get_device_details(physical)
            description = details.get("device_name", "GPU")
        else:
            said = sentence(N_("{processor}, {cores} cores"), processor=platform.processor() or platform.machine(),
                            cores=os.cpu_count())
            description = english(said)
        devices.append(Device(name, physical.device_type, description, said))
    return devices


@dataclass(frozen=True)
class Placement:
    strategy: object  # a tf.distribute.Strategy
    kind: str  # "CPU" or "GPU"
    description: str  # for people, in English: "CPU (x86_64, 2 cores)" or "2 x NVIDIA H100 (mirrored)"
    replicas: int
    said: dict | None = None  # the description as a sentence to translate (fer.events.shown); None: names only


def placement(choice: str = "auto") -> Placement:
    """Where this process's Keras backend trains, for the device choice."""
    import keras

    if choice not in DEVICE_CHOICES:
        raise error(DeviceError, N_("Unknown device {device}: use one of {devices}."), device=repr(choice),
                    devices=", ".join(DEVICE_CHOICES))
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_placement(choice)
    if backend == "torch":
        return _torch_placement(choice)
    return _tensorflow_placement(choice)


class _NoStrategy:
    """JAX and PyTorch place variables themselves: building needs no strategy scope."""

    def scope(self):
        import contextlib

        return contextlib.nullcontext()


def _cpu_placement(strategy, backend: str | None = None) -> Placement:
    processor, cores = platform.processor() or platform.machine(), os.cpu_count()
    said = (sentence(N_("CPU ({processor}, {cores} cores)"), processor=processor, cores=cores) if backend is None
            else sentence(N_("CPU ({processor}, {cores} cores), {backend}"), processor=processor, cores=cores,
                          backend=backend))
    return Placement(strategy, "CPU", english(said), 1, said)


def _no_gpu(backend: str) -> DeviceError:
    return error(DeviceError, N_("This machine has no GPU that {backend} can see, and the training asked for one: "
                                 "choose the CPU or 'best available', or install a GPU build of the backend "
                                 "(README, 'Train on a GPU')."), backend=backend)


def _jax_placement(choice: str) -> Placement:
    import jax

    gpus = [device for device in jax.devices() if device.platform in ("gpu", "cuda", "rocm", "METAL", "metal")]
    if choice == "gpu" and not gpus:
        raise _no_gpu("JAX")
    if gpus and choice != "cpu":
        return Placement(_NoStrategy(), "GPU", f"GPU ({gpus[0].device_kind}, JAX)", 1)
    return _cpu_placement(_NoStrategy(), "JAX")


def _torch_placement(choice: str) -> Placement:
    import torch
    from keras.src.backend.torch.core import get_device

    device = str(get_device())
    if choice == "gpu" and not device.startswith(("cuda", "mps")):
        raise _no_gpu("PyTorch")
    if device.startswith("cuda"):
        return Placement(_NoStrategy(), "GPU", f"GPU ({torch.cuda.get_device_name(0)}, PyTorch)", 1)
    if device.startswith("mps"):
        return Placement(_NoStrategy(), "GPU", "GPU (Apple MPS, PyTorch)", 1)
    return _cpu_placement(_NoStrategy(), "PyTorch")


def _tensorflow_placement(choice: str) -> Placement:
    import tensorflow as tf

    gpus = [device for device in list_devices() if device.kind == "GPU"]
    if choice == "gpu" and not gpus:
        raise _no_gpu("TensorFlow")
    if choice == "cpu" or not gpus:
        return _cpu_placement(tf.distribute.OneDeviceStrategy("/cpu:0"))
    if len(gpus) == 1:
        return Placement(tf.distribute.OneDeviceStrategy("/gpu:0"), "GPU", f"GPU ({gpus[0].description})", 1)
    names = sorted({gpu.description for gpu in gpus})
    strategy = tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    said = sentence(N_("{count} x {names} (mirrored)"), count=len(gpus), names=", ".join(names))
    return Placement(strategy, "GPU", english(said), len(gpus), said)
