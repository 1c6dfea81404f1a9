"""The gunicorn settings every web process runs with: Procfile, docker compose, Kubernetes and the benchmarks
(their bare baseline included) all start gunicorn with `-c python:renewals_shared.gunicorn_conf`.

Threaded workers with keep-alive: most of a request's time in the gateway and order-service is spent waiting for
another service, and a synchronous worker would sit idle meanwhile (two of them cap a service at two requests in
flight); keep-alive lets the services' connection pools reuse one connection per peer instead of a TCP handshake
and teardown on every call. Command-line options and GUNICORN_CMD_ARGS still override these.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 5  # seconds an idle connection stays open; the clients' pools reuse it meanwhile
graceful_timeout = 10
# gunicorn's control socket has one default path per user: the services of one host would take it from each other,
# and nothing here uses it (operations go through signals, health endpoints and the admin API).
control_socket_disable = True
