"""Compare the ONNX query encoder with sentence-transformers on the whole corpus and every development question.

    python scripts/check_onnx.py [--index .index] [--sentences]

Prints the number of texts, the minimum, the 0.1% quantile and the median cosine, and the text of the
minimum; exits 1 when the minimum is below bot.embeddings.MIN_COSINE (0.999). The ONNX export is the one
cached in the index folder (made there if missing). Texts: every chunk as the index embeds it, every
investor question ('Q:' lines), every development question and every earlier turn of a conversation;
with --sentences, every chunk sentence too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.chunking import chunk_document  # noqa: E402
from bot.corpus import load_corpus  # noqa: E402
from bot.embeddings import MIN_COSINE, OnnxEncoder, cosines, ensure_onnx, shared_embedder  # noqa: E402
from bot.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / ".index", help="Index folder holding the export.")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions")
    parser.add_argument("--sentences", action="store_true", help="Also every sentence of every chunk.")
    args = parser.parse_args()
    settings = Settings(index={"path": args.index}, corpus={"path": args.corpus})  # type: ignore[arg-type]
    torch_model = shared_embedder(settings.embedding.model, settings.embedding.batch_size)
    onnx = OnnxEncoder(settings.embedding.model, ensure_onnx(settings, torch_model))

    texts: dict[str, list[str]] = {"chunks": [], "investor questions": [], "development questions": []}
    for document in load_corpus(settings.corpus.path):
        chunks = chunk_document(document, torch_model.count_tokens, settings.embedding.max_chunk_tokens)
        texts["chunks"] += [c.embed_text for c in chunks]
        if args.sentences:
            texts.setdefault("sentences", []).extend(s for c in chunks for s in c.sentences)
        texts["investor questions"] += [q for section in document.sections for q in section.questions]
    for path in sorted(args.questions.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                texts["development questions"].append(record["question"])
                texts["development questions"] += [t if isinstance(t, str) else t[0] for t in record.get("history", [])]

    worst = (2.0, "")
    failed = False
    for kind, group in texts.items():
        started = time.perf_counter()
        similarity = cosines(onnx, torch_model, group)
        low = int(similarity.argmin())
        print(
            f"{kind}: {len(group)} texts, min cosine {similarity.min():.6f}, 0.1% quantile "
            f"{np.quantile(similarity, 0.001):.6f}, median {np.median(similarity):.6f} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        if similarity.min() < worst[0]:
            worst = (float(similarity.min()), group[low])
        failed |= bool(similarity.min() < MIN_COSINE)
    print(f"minimum over all {sum(map(len, texts.values()))} texts: {worst[0]:.6f} for {worst[1][:100]!r}")
    if failed:
        print(f"FAILED: below {MIN_COSINE}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
