"""Extension points for the apps above reports (advisories now; later the email gateway and API).

reports never imports those apps (DESIGN §1). The glue registers them here at start-up
(disclosure.apps), and reports calls whatever is registered, in registration order.

- Reminder sources (`register_reminders`): every app that reminds people of dates. A source of
  reminders about reports has `kinds` ({kind: reports.reminders.ReminderKind}) and
  `plan(report, *, now)`; the sweep stores, sends and marks those (reports.sweep). A source of
  reminders about something else (projects' end of support) has `sweep(*, now)` and sends its own.
- Intake hooks (`register_intake`): called with the new report inside the transaction that files
  it, so what an app keeps per report exists from the start (advisories: the Disclosure).
"""

_reminder_sources = []
_intake_hooks = []


def register_reminders(source):
    if source not in _reminder_sources:
        _reminder_sources.append(source)
    return source


def reminder_sources():
    return tuple(_reminder_sources)


def register_intake(hook):
    if hook not in _intake_hooks:
        _intake_hooks.append(hook)
    return hook


def intake_hooks():
    return tuple(_intake_hooks)
