"""A fake webcam for headless Chromium: a y4m video of a drawn face that the Haar cascade finds.

Chromium plays the file in a loop as the camera when started with
`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m`.
The face comes from fer.synth (a drawing, not FER2013), enlarged onto a plain background.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# Seed and label of a drawn face the cascade detects (checked by the tests that use it).
FACE_SEED = 1
FACE_LABEL = 3


def face_frame(width: int = 640, height: int = 480, face_side: int = 300) -> np.ndarray:
    """An RGB frame: a grey, softly lit background with one large drawn face in the middle."""
    from fer.synth import draw_faces

    face = draw_faces(np.array([FACE_LABEL]), seed=FACE_SEED)[0]
    big = cv2.resize(face, (face_side, face_side), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(110, 150, width, dtype=np.float64)[None, :].repeat(height, axis=0)
    frame = ramp.astype(np.uint8)
    top, left = (height - face_side) // 2, (width - face_side) // 2
    frame[top : top + face_side, left : left + face_side] = big
    rgb = np.stack([frame, frame, frame], axis=-1).astype(np.int16)
    rgb[..., 0] += 12  # a warm tint, so the page's grayscale weights matter
    rgb[..., 2] -= 8
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """RGB uint8 frames (all the same even size) -> a 4:2:0 YUV4MPEG2 file."""
    height, width = frames[0].shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"y4m 4:2:0 needs an even frame size; got {width}x{height}.")
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            handle.write(b"FRAME\n")
            handle.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path
