"""What TensorFlow can compute on here, and the distribution strategy for a device choice.

`auto` takes every GPU when there is one (mirrored across several), else the CPU; `cpu` forces
the CPU even on a GPU machine (handy to compare speeds); `gpu` insists on a GPU.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

DEVICE_CHOICES = ("auto", "cpu", "gpu")


class DeviceError(ValueError):
    """A device choice this machine cannot honour; the message says what to pick instead."""


@dataclass(frozen=True)
class Device:
    name: str  # TensorFlow's logical name, e.g. "/device:GPU:0"
    kind: str  # "CPU" or "GPU"
    description: str


def list_devices() -> list[Device]:
    import tensorflow as tf

    devices = []
    for physical in tf.config.list_physical_devices():
        if physical.device_type not in ("CPU", "GPU"):
            continue
        index = physical.name.rsplit(":", 1)[-1]
        name = f"/device:{physical.device_type}:{index}"
        if physical.device_type == "GPU":
            details = tf.config.experimental.get_device_details(physical)
            description = details.get("device_name", "GPU")
        else:
            description = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
        devices.append(Device(name, physical.device_type, description))
    return devices


def gpu_count() -> int:
    return sum(1 for device in list_devices() if device.kind == "GPU")


@dataclass(frozen=True)
class Placement:
    strategy: object  # a tf.distribute.Strategy
    kind: str  # "CPU" or "GPU"
    description: str  # for people: "CPU (x86_64, 2 cores)" or "2 x NVIDIA H100 (mirrored)"
    replicas: int


def placement(choice: str = "auto") -> Placement:
    import tensorflow as tf

    if choice not in DEVICE_CHOICES:
        raise DeviceError(f"Unknown device {choice!r}: use one of {', '.join(DEVICE_CHOICES)}.")
    gpus = [device for device in list_devices() if device.kind == "GPU"]
    if choice == "gpu" and not gpus:
        raise DeviceError("This machine has no GPU that TensorFlow can see: choose the CPU or auto.")
    if choice == "cpu" or not gpus:
        cpu = next(device for device in list_devices() if device.kind == "CPU")
        return Placement(tf.distribute.OneDeviceStrategy("/cpu:0"), "CPU", f"CPU ({cpu.description})", 1)
    if len(gpus) == 1:
        return Placement(tf.distribute.OneDeviceStrategy("/gpu:0"), "GPU", f"GPU ({gpus[0].description})", 1)
    names = sorted({gpu.description for gpu in gpus})
    strategy = tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return Placement(strategy, "GPU", f"{len(gpus)} x {', '.join(names)} (mirrored)", len(gpus))
