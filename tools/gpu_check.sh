#!/usr/bin/env bash
# GPU readiness check: every CUDA path of visionkit in at most 8 minutes (docs/GPU.md).
#
#   bash tools/gpu_check.sh                        # GPU machine: pip install -e ., then every step
#   bash tools/gpu_check.sh --device cpu --quick   # the same steps on the CPU, 1 training step each
#   bash tools/gpu_check.sh --fetch-wheels         # here, with a network: the wheels a bare GPU image lacks -> .whl/
#
# Other options go to tools/gpu_check.py (--only, --jobs, --budget, --out, ...; --help lists them).
# The summary (summary.md, summary.json, logs.txt) goes to $OUT when set, else runs/gpu_check/.
set -u
cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-python3}

if [ "${1:-}" = "--fetch-wheels" ]; then
    # The packages of pyproject.toml (and their needs) that the device image ('cuda', Python 3.12)
    # does not hold, at the versions tested here (typing-extensions: pydantic needs >= 4.14.1);
    # 9 MB, carried with `carry: [".whl"]` and installed by the install-wheels step (docs/GPU.md).
    exclude=$(git rev-parse --git-path info/exclude)
    grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
    exec "$PY" -m pip download --no-deps --only-binary=:all: --python-version "${WHEEL_PYTHON:-3.12}" --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux_2_24_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 -d .whl \
        albumentations==2.0.8 albucore==0.0.24 simsimd==6.5.16 stringzilla==5.3.2 \
        pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2 typing-extensions==4.16.0 \
        pycocotools==2.0.11 segmentation-models-pytorch==0.6.0
fi

exec "$PY" tools/gpu_check.py "$@"
