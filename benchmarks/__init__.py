"""Real CPU inference pipelines whose results the guide renders."""

import os

# torch imports every installed "device backend" at start-up; torchao (pulled in by
# litert-torch) registers as one and costs each worker process seconds and a page of
# CUDA-library warnings. Workers inherit this; code that needs torchao imports it.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

# Progress bars from Hugging Face libraries ("Loading weights") clutter the run's log,
# and their tqdm locks are semaphores that a worker's fast exit would leave behind.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
