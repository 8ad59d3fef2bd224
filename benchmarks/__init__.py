"""Real CPU inference pipelines whose results the guide renders."""

import os

# torch imports every installed "device backend" at start-up; torchao (pulled in by
# litert-torch) registers as one and costs each worker process seconds and a page of
# CUDA-library warnings. Workers inherit this; code that needs torchao imports it.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")
