"""A licence shipped only as a PDF is read like a LICENSE text file; any other PDF stays documentation.

Every PDF is built here (tests/fixtures/licence_pdfs.py writes the PDF by hand; the encrypted
one is pypdf's own writer encrypting it). The expectations come from the licence texts: the MIT
text is the knowledge base's own, and the non-commercial licence below says "non-commercial
research purposes only" and "may not use ... for any commercial purpose" in its own words.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
import yaml
from click.testing import CliRunner
from fixtures.licence_pdfs import MIT_TEXT, PAPER_TEXT, build_pdf

from auditor.classify.classifier import classify
from auditor.cli import audit_model
from auditor.model import FileEntry
from auditor.sources.pdf_text import MAX_PAGES, pdf_text
from auditor.sources.selection import FILE_CAP, TOTAL_CAP, select

NON_COMMERCIAL = """Example Research Model Licence Agreement

1. Grant. Subject to the terms of this Agreement, the Licensor grants you a non-exclusive,
worldwide, royalty-free licence to use, copy, modify and distribute the Model for
non-commercial research purposes only.

2. Restrictions. You may not use the Model, its outputs or any derivative of it for any
commercial purpose, and you may not sell or offer the Model as part of a paid service.

3. Notice. You must keep this Agreement with every copy of the Model you distribute.
"""
FIXTURE = Path(__file__).parent / "fixtures" / "repos" / "licence-pdf"


def encrypted(text: str, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(build_pdf(text)))
    writer.encrypt(user_password, "owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dense_page_pdf(operations: int) -> bytes:
    """One page of `operations` text-showing operators, Flate-compressed to a few kilobytes."""
    return build_pdf("x", inflating_to=1, content=b"BT /F1 9 Tf " + b"(a) Tj " * operations + b"ET\n")


def audit(folder: Path) -> tuple[int, dict, str]:
    """The real CLI in its own process: exit code, JSON report, stderr."""
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "auditor", str(folder), "--no-check-links", "--format", "json"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def unread(report: dict) -> dict[str, str]:
    return {f["evidence"][0]: f["message"] for f in report["findings"] if f["code"] == "file-unread"}


# --- classification and selection: the name decides, as for text licence files


@pytest.mark.parametrize("name", [
    "MODEL_LICENSE.pdf", "assets/aquila_license.pdf", "Baichuan 2模型社区许可协议.pdf", "用户协议.pdf",
    "LICENSE.pdf", "Terms_of_Use.pdf", "license-agreement.pdf", "EULA.pdf",
])
def test_a_pdf_named_as_a_licence_is_a_licence_file_and_is_read(name):
    (artefact,) = classify([FileEntry(name, 200_000)])
    assert (artefact.category.value, artefact.format) == ("licence", "pdf")
    assert select([FileEntry(name, 200_000)]).read == (name,)


@pytest.mark.parametrize("name", ["technical_report.pdf", "paper.pdf", "docs/architecture.pdf"])
def test_any_other_pdf_is_documentation_and_never_read(name):
    (artefact,) = classify([FileEntry(name, 200_000)])
    assert (artefact.category.value, artefact.format) == ("documentation", "pdf")
    assert select([FileEntry(name, 200_000)]).read == ()


def test_the_card_is_read_before_licence_pdfs_and_a_pdf_named_readme_never():
    pdfs = [FileEntry(f"LICENSE_{n}.pdf", FILE_CAP) for n in range(TOTAL_CAP // FILE_CAP)]
    selection = select([*pdfs, FileEntry("README.md", 500), FileEntry("README.pdf", 500)])
    assert selection.read[0] == "README.md"  # the read budget runs out on a licence PDF, never on the card
    assert "README.pdf" not in selection.read and "README.pdf" not in {s.path for s in selection.unread}


def test_a_licence_pdf_over_the_licence_file_cap_is_not_read():
    selection = select([FileEntry("MODEL_LICENSE.pdf", FILE_CAP + 1)])
    assert selection.read == ()
    assert [s.path for s in selection.unread] == ["MODEL_LICENSE.pdf"]


# --- extraction: whole, or Skipped with a reason that names no content


def test_the_text_of_a_licence_pdf_is_extracted():
    text = pdf_text("MODEL_LICENSE.pdf", build_pdf(MIT_TEXT))
    assert isinstance(text, str)
    assert " ".join(text.split()) == " ".join(MIT_TEXT.split())


def test_a_pdf_with_an_owner_password_only_opens_as_any_viewer_opens_it():
    text = pdf_text("MODEL_LICENSE.pdf", encrypted(MIT_TEXT, ""))
    assert isinstance(text, str) and "Permission is hereby granted" in text


@pytest.mark.parametrize(("data", "reason"), [
    (build_pdf(MIT_TEXT)[:600], "not a readable PDF"),
    (b"%PDF-1.7\n" + b"(Permission is hereby granted) garbage " * 40, "not a readable PDF"),
    (encrypted(MIT_TEXT, "user-secret"), "encrypted"),
    (build_pdf("line\n" * (60 * (MAX_PAGES + 1))), f"more than {MAX_PAGES}"),
    (build_pdf(""), "no extractable text"),
    (build_pdf(MIT_TEXT, inflating_to=20 << 20), "more than the reader's limits (8 MiB decoded"),
    (dense_page_pdf(300_000), "more than the reader's limits"),
])
def test_a_pdf_that_cannot_be_read_whole_is_skipped_with_the_reason(data, reason):
    skipped = pdf_text("MODEL_LICENSE.pdf", data)
    assert not isinstance(skipped, str)
    assert skipped.path == "MODEL_LICENSE.pdf" and reason in skipped.reason
    assert "Permission" not in skipped.reason and "line" not in skipped.reason


# --- the real CLI on local folders


def test_a_folder_whose_only_licence_is_a_pdf_is_identified_from_it(tmp_path):
    (tmp_path / "MODEL_LICENSE.pdf").write_bytes(build_pdf(MIT_TEXT))
    (tmp_path / "technical_report.pdf").write_bytes(build_pdf(PAPER_TEXT))
    code, report, stderr = audit(tmp_path)
    assert code == 0, stderr
    (licence,) = report["licences"]
    assert (licence["spdx"], licence["source"], licence["method"]) == ("MIT", "MODEL_LICENSE.pdf", "exact")
    assert report["terms"]["commercial_use"]["value"] == "yes"
    assert report["terms"]["commercial_use"]["because"] == ["MODEL_LICENSE.pdf"]
    formats = {a["path"]: (a["category"], a["format"]) for a in report["artefacts"]}
    assert formats == {"MODEL_LICENSE.pdf": ("licence", "pdf"), "technical_report.pdf": ("documentation", "pdf")}
    assert unread(report) == {}


def test_a_non_commercial_licence_pdf_forbids_commercial_use(tmp_path):
    (tmp_path / "MODEL_LICENSE.pdf").write_bytes(build_pdf(NON_COMMERCIAL))
    code, report, stderr = audit(tmp_path)
    assert code == 0, stderr
    assert report["terms"]["commercial_use"]["value"] == "no"
    assert report["terms"]["commercial_use"]["because"] == ["MODEL_LICENSE.pdf"]
    assert "non-commercial research purposes only" in report["terms"]["commercial_use"]["clause"]
    assert [m["source"] for m in report["licences"]] == ["MODEL_LICENSE.pdf"]


def test_unreadable_licence_pdfs_are_reported_like_an_unreadable_licence_file(tmp_path):
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "LICENSE").write_bytes(b"MIT License\0\0\0not text")
    peer_code, peer, _ = audit(binary)
    assert "LICENSE" in unread(peer)  # the peer: a licence file that is not text

    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    (pdfs / "MODEL_LICENSE.pdf").write_bytes(build_pdf(MIT_TEXT)[:700])
    (pdfs / "license_agreement.pdf").write_bytes(encrypted(NON_COMMERCIAL, "user-secret"))
    (pdfs / "terms_of_use.pdf").write_bytes(build_pdf(NON_COMMERCIAL, pad_to=FILE_CAP + 1))
    code, report, stderr = audit(pdfs)
    assert code == peer_code
    assert "Traceback" not in stderr
    messages = unread(report)
    assert "not a readable PDF" in messages["MODEL_LICENSE.pdf"]
    assert "encrypted" in messages["license_agreement.pdf"]
    assert "larger than 1 MiB" in messages["terms_of_use.pdf"]
    assert not any("Permission" in m or "commercial" in m for m in messages.values())
    assert report["licences"] == []


# --- over the fake Hub


def test_a_licence_pdf_is_downloaded_and_read_over_the_hub(fake_hub):
    repo_id = yaml.safe_load((FIXTURE / "repo.yaml").read_text())["id"]
    result = CliRunner().invoke(audit_model, [repo_id, "--no-check-links", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    (licence,) = report["licences"]
    assert (licence["spdx"], licence["source"]) == ("MIT", "MODEL_LICENSE.pdf")
    assert report["terms"]["commercial_use"]["value"] == "yes"
    fetched = {r.path for r in fake_hub.stats.log if r.kind == "get"}
    assert "MODEL_LICENSE.pdf" in fetched
    assert "technical_report.pdf" not in fetched  # documentation: listed, never downloaded
