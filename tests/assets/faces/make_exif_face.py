"""Write `drawn_face_exif6.jpg`: a drawn face in a JPEG whose pixels lie on their side, with EXIF Orientation=6.

A phone held upright stores its photo sideways and adds the tag "Orientation = 6" (turn it 90
degrees clockwise to view). Viewers and browsers (`createImageBitmap`) turn the picture; a
decoder that ignores the tag hands the face detector a face lying on its side, which a frontal
face detector does not find.

The face is one of our own drawings (`fer.synth.draw_faces([6], seed=3)`, a neutral face),
enlarged to FACE_SIDE x FACE_SIDE with cubic interpolation, pasted at (FACE_LEFT, FACE_TOP) of
an UPRIGHT_WIDTH x UPRIGHT_HEIGHT warm gradient, then turned 90 degrees anticlockwise for
storage. Nothing in it comes from FER2013. Run from the repository root to write it again:

    .venv/bin/python tests/assets/faces/make_exif_face.py
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

ASSET = Path(__file__).with_name("drawn_face_exif6.jpg")
UPRIGHT_WIDTH, UPRIGHT_HEIGHT = 360, 280
FACE_LEFT, FACE_TOP, FACE_SIDE = 150, 60, 170
ORIENTATION_TAG, ROTATE_90_CLOCKWISE_TO_VIEW = 0x0112, 6


def upright_picture() -> np.ndarray:
    """The picture as a person sees it: RGB uint8, UPRIGHT_HEIGHT x UPRIGHT_WIDTH."""
    from fer.synth import draw_faces

    face = draw_faces(np.array([6]), seed=3)[0]
    big = cv2.resize(face, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    ramp = np.linspace(90, 170, UPRIGHT_WIDTH)[None, :] + np.linspace(-15, 15, UPRIGHT_HEIGHT)[:, None]
    gray = ramp.copy()
    gray[FACE_TOP : FACE_TOP + FACE_SIDE, FACE_LEFT : FACE_LEFT + FACE_SIDE] = big
    rgb = np.stack([gray + 14, gray, gray - 10], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def jpeg_bytes() -> bytes:
    from PIL import Image

    stored = np.ascontiguousarray(np.rot90(upright_picture(), k=1))  # anticlockwise: how the camera stores it
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = ROTATE_90_CLOCKWISE_TO_VIEW
    buffer = io.BytesIO()
    # 4:4:4 chroma and high quality: the browser's and OpenCV's JPEG decoders then agree to the last bit or so.
    Image.fromarray(stored).save(buffer, "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
    return buffer.getvalue()


if __name__ == "__main__":
    ASSET.write_bytes(jpeg_bytes())
    print(f"wrote {ASSET} ({ASSET.stat().st_size} bytes)")
