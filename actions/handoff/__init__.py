"""Hand-off of a user's question to the national URBACT contact point (France & Luxembourg).

- fields.py    checks of the form answers (name, organisation, e-mail, question, consent)
- form.py      validate_handoff_form (Rasa form validation action)
- message.py   the Slack message the staff receive (user text escaped)
- slack_api.py chat.postMessage / conversations.history over aiohttp, with deadlines
- outbox.py    delivery of pending requests to Slack: claims, retries, never twice
- loop.py      the background delivery loop of the action server
- submit.py    action_submit_handoff (stores, then tries to deliver at once)
- staff.py     action_staff_list_handoffs / action_staff_mark_handled (Slack only)

Storage: actions/db/handoff_models.py and actions/db/handoff_repository.py.
This package never imports rasa.
"""
