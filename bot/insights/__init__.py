"""Insights for the contact-point staff: what cities ask and what the assistant misses (issue 12).

Reads the conversations Rasa recorded (its SQL tracker store: var/conversations.db on the
embedded default, PostgreSQL in the production profile) and the statuses of the hand-off
requests, and writes results/insights/ (`make insights`, bot/ops/insights.py). Runs in the
Rasa environment; no sender id, and no text unmasked, ever leaves it.

Public functions, for the command, the /insights/ page and the Slack weekly figures:

- `bot.insights.report.load_summary(since, until, conversations_url=None, database_url=None)
  -> dict`: the summary.json dict of a period (dates, UTC days, inclusive); the URLs default
  to the environment (`store.conversations_url_from_env`, `store.database_url_from_env`).
  `load_insights(...)` gives the same plus the per-day counts (`summary.Insights`).
- `bot.insights.report.default_period(today=None) -> (since, until)`: the last 7 days.
- `bot.insights.report.write_report(insights, out_dir) -> Path`: summary.json, the PNG
  charts and index.html in out_dir; returns index.html's path.
- `bot.insights.charts.render_chart(insights, name) -> bytes`: one PNG (names in
  `charts.CHARTS`: messages_per_day, top_topics, fallback_rate), e.g. for Slack.
- `bot.insights.page.render_page(insights, chart_files) -> str`: the French HTML page.
- `bot.insights.summary.build_summary(events, since, until, handoffs=None) -> dict`: pure
  function over `store.StoredEvent`s (`store.read_events(url, since, until)` streams them).
- `bot.insights.privacy.mask(text) -> str`: e-mail addresses, phone numbers, names masked.
- `bot.insights.recording.RecordingTrackerStore`: the tracker store of endpoints.yml (Rasa's
  SQL tracker store, lean per turn); `store.prepare_sqlite_file(path)` creates its file (WAL).
- `bot.insights.synthetic`: conversations as Rasa records them, for tests and `make bench`.

Errors: `store.StoreUnavailable` when the conversation store does not answer (its message names
the store, password hidden).
"""
