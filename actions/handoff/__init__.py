"""Hand-off of a user's question to the national URBACT contact point (France & Luxembourg).

- fields.py     checks of the form answers (name, organisation, e-mail, question, consent)
- form.py       validate_handoff_form (Rasa form validation action)
- message.py    the Slack message the staff receive (user text escaped)
- models.py     HandoffRequest: the table, a new request and the record actions read
- repository.py SqlHandoffRepository: storage, atomic claims, fenced writes, erasure
- slack_api.py  chat.postMessage / conversations.history / chat.delete (slack_sdk), deadlines
- outbox.py     delivery of pending requests to Slack: claims, retries, never twice
- loop.py       the background delivery loop of the action server
- plugin.py     rasa-sdk plugin hook: the loop starts and stops with the action server
- submit.py     action_submit_handoff (stores, then tries to deliver at once)
- staff.py      action_staff_list_handoffs / action_staff_mark_handled (Slack only)

Operator commands: actions/ops/deliver_handoffs.py, actions/ops/purge_handoffs.py.
This package never imports rasa.
"""
