"""The text of a licence shipped as a PDF (MODEL_LICENSE.pdf, "模型社区许可协议.pdf"), read with pypdf.

A PDF is hostile input: the bytes are already capped by the selection (FILE_CAP), pypdf's
own decoding and parsing caps are lowered, at most MAX_PAGES pages are read, and the text stops at
MAX_CHARS characters or TIME_BUDGET seconds. A PDF over any of those, encrypted, without
extractable text (a scan), or that pypdf cannot parse is Skipped with the reason, never half
read: a licence cut short may lack the very clause that restricts its use. Reasons name the
failure, never the file's content.
"""

from __future__ import annotations

import io
import logging
import time
import warnings

import pypdf
import pypdf.errors

from auditor.model import Skipped

MAX_PAGES = 50
MAX_CHARS = 400_000
TIME_BUDGET = 10.0  # seconds for one file: a licence of a few pages takes well under one
_STREAM_CAP = 8 << 20  # bytes one decoded stream may reach (pypdf's default is 75 MB)

_CAPS: dict[str, int] = {  # pypdf's resource limits, lowered for the reads made here (context-local, not process-wide)
    name: _STREAM_CAP
    for name in (
        "maximum_declared_stream_length", "array_based_stream_maximum_output_length", "jbig2_maximum_output_length",
        "lzw_maximum_output_length", "run_length_maximum_output_length", "zlib_maximum_output_length",
        "brotli_maximum_output_length", "image_maximum_buffer_size",
    )
}
# tokens parsed in one content stream: a dense licence page holds a few tens of thousands; at
# pypdf's default (2 million) one hostile page takes seconds, so the time budget could not bind
_CAPS["stream_parsing_work_maximum_count"] = 250_000
# a damaged PDF makes pypdf log and warn as it recovers: that is the file's noise, not the user's
logging.getLogger("pypdf").addHandler(logging.NullHandler())
logging.getLogger("pypdf").propagate = False
warnings.filterwarnings("ignore", module=r"pypdf(\.|$)")


class _OverBudget(Exception):
    """The PDF needs more than one of the budgets allows."""


def pdf_text(path: str, data: bytes) -> str | Skipped:
    """The text of the PDF `data`, page after page, or Skipped(path, reason) when it cannot be read whole."""
    try:
        with pypdf.apply_configuration(None, **_CAPS):
            return _extract(data)
    except _OverBudget as error:
        return Skipped(path, f"PDF not read: {error}")
    except pypdf.errors.LimitReachedError:
        return Skipped(path, f"PDF not read: a stream needs more than the reader's limits ({_STREAM_CAP >> 20} MiB decoded, {_CAPS['stream_parsing_work_maximum_count']:,} tokens)")
    except RecursionError:
        return Skipped(path, "not a readable PDF (nested too deeply)")
    except Exception as error:  # pypdf raises many kinds on a damaged or hostile file
        return Skipped(path, f"not a readable PDF ({type(error).__name__})")


def _extract(data: bytes) -> str:
    deadline = time.monotonic() + TIME_BUDGET
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not _opens_without_password(reader):
        raise _OverBudget("encrypted (a password is needed to read it)")
    count = len(reader.pages)
    if count > MAX_PAGES:
        raise _OverBudget(f"{count} pages, more than {MAX_PAGES}")
    pages: list[str] = []
    size = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        size += len(text)
        if size > MAX_CHARS:
            raise _OverBudget(f"more than {MAX_CHARS} characters of text")
        if time.monotonic() > deadline:
            raise _OverBudget(f"text extraction took more than {TIME_BUDGET:g} s")
        pages.append(text)
    text = "\n".join(pages).strip()
    if not text:
        raise _OverBudget("no extractable text (a scanned image?)")
    return text + "\n"


def _opens_without_password(reader: pypdf.PdfReader) -> bool:
    """Whether an encrypted PDF opens with the empty user password, as any viewer opens it."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # an unsupported cipher, or no AES library installed
        return False
