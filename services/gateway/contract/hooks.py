"""Schemathesis hooks for the gateway's contract run (see run.sh).

An upload's schema is "bytes of type image/png" (or jpeg, webp, gif): OpenAPI cannot say
"bytes that decode as that image", so by default the fuzzer sends random bytes, which the
gateway rightly refuses with 415. These strategies make real images of each accepted type,
of random sizes and pixels, so schema-valid uploads are accepted and the stateful phase can
follow an upload to its media and its bytes.
"""

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image

FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}


@st.composite
def _image(draw, image_format):
    width = draw(st.integers(min_value=1, max_value=48))
    height = draw(st.integers(min_value=1, max_value=48))
    pixels = draw(st.binary(min_size=width * height * 3, max_size=width * height * 3))
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, format=image_format)
    return out.getvalue()


for media_type, image_format in FORMATS.items():
    schemathesis.openapi.media_type(media_type, _image(image_format))
