"""`make load`: Brigade under locust (tests/load/locustfile.py), through the gateway like a browser.

Run as `uv run --frozen python -m tests.load` (see `--help`): it starts PostgreSQL, nats-server and
every service on free ports (or targets LOAD_HOST), runs locust headless, prints the figures and
records them in docs/benchmarks.md. The same locustfile is the `brigade-loadgenerator` image
(tests/load/Dockerfile) that the Helm chart runs in a cluster.
"""
