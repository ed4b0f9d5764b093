# RNN Explorer team-server image: gunicorn serving app:server, CPU-only TensorFlow.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    KERAS_BACKEND=tensorflow \
    RNNX_DATA_DIR=/data \
    RNNX_CACHE_DIR=/cache \
    HOST=0.0.0.0 \
    PORT=8050 \
    WEB_CONCURRENCY=2 \
    RNNX_THREADS=4 \
    RNNX_WARMUP=1

WORKDIR /app

# Dependencies in their own layer: rebuilt only when requirements.txt changes.
# In the same layer, drop what is never used at run time (TensorFlow's C++
# headers, the packages' own test suites) so it never reaches the image.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
 && SP="$(python -c 'import importlib.util, os; print(os.path.dirname(os.path.dirname(importlib.util.find_spec("tensorflow").origin)))')" \
 && rm -rf "$SP/tensorflow/include" \
 && find "$SP" -depth -type d \( -path '*/pandas/tests' -o -path '*/scipy/*/tests' \
      -o -path '*/sklearn/*/tests' -o -path '*/numpy/*/tests' -o -path '*/plotly/*/tests' \) \
      -exec rm -rf {} + \
 && useradd --system --uid 10001 --create-home --home-dir /home/rnnx rnnx \
 && mkdir -p /data /cache \
 && chown rnnx:rnnx /data /cache

# The code stays owned by root (read-only for the app user); only /data and /cache are writable.
# It includes the pretrained default classifiers (model/pretrained/, docs/pretrained.md): the
# build fails if one does not match its manifest's checksums. RNNX_WARMUP=1 (above) prepares the
# default analyses on start, with those classifiers, so no one waits for training.
COPY . .
RUN python -m model.pretrained

USER rnnx
VOLUME ["/data", "/cache"]
EXPOSE 8050

# The slim image has no curl: ask /healthz with Python's urllib.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=4)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:server"]
