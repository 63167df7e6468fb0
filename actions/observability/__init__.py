"""Prometheus metrics and a readiness route on the action server (rasa-sdk plugin).

- GET /metrics: actions run by name, their errors and latency, summed over every sanic
  worker (prometheus-client's multiprocess mode, multiprocess.py), plus the hand-off outbox
  backlog read from the database at scrape time (metrics.py);
- GET /health/ready: 200 when the database answers within a short deadline, else 503
  (health.py). rasa-sdk already owns GET /health: it stays the cheap liveness check that Rasa
  and the launchers poll, answered without touching the database, so a database outage
  does not make the action server look dead (actions that need no database still work).

actions/ops/action_server.py prepares the multiprocess folder before prometheus-client is
imported, then registers plugin.py. Both routes are open without the shared secret: they
show counts and short words, never a conversation, an address or a password.
"""

METRICS_PATH = "/metrics"
READY_PATH = "/health/ready"
