"""Every phase of a started checklist gets its notes (Stalwart's per-phase "Updates").

Checklists are copied onto a report when started and never follow later template edits; the
notes box, though, is a new part of every checklist, not a template edit, so the checklists
started before it get theirs: one empty notes item opening each phase, as start_checklist now
copies it. Its label is the prompt of the shipped Stalwart phase of the same title ("Use this
section to detail the report received, initial assessment, and validation results", ...), else
empty. Items are renumbered so that each phase opens with its notes; nothing else changes (tasks,
fields, their values and the progress, which notes do not count in). Backwards removes the notes
items and renumbers the rest as before.

The template itself is not touched here: seed_projects brings a Stalwart template that was never
customised up to date (advisories.services.seed_checklists).
"""

from django.db import migrations, models

NOTES = "notes"
PROMPTS = {
    "Phase 1: Initial Assessment & Validation": (
        "Use this section to detail the report received, initial assessment, and validation "
        "results"
    ),
    "Phase 2: Immediate Response & Mitigation": (
        "Document immediate actions taken and mitigation strategies"
    ),
    "Phase 3: Impact Assessment & User Analysis": (
        "Analysis of potential impact on the Stalwart deployments"
    ),
    "Phase 4: Communication & Release": "Communication strategy and release timeline",
}
# Orders are unique per report: every row first moves out of the way of the final numbers.
OFFSET = 10_000


def _renumber(ChecklistItem, report_id, items):
    ChecklistItem.objects.filter(report_id=report_id).update(order=models.F("order") + OFFSET)
    for order, item in enumerate(items):
        item.order = order
    ChecklistItem.objects.bulk_update(items, ["order"])


def add_notes(apps, schema_editor):
    ChecklistItem = apps.get_model("advisories", "ChecklistItem")
    report_ids = (
        ChecklistItem.objects.exclude(kind=NOTES)
        .values_list("report_id", flat=True)
        .order_by()
        .distinct()
    )
    for report_id in list(report_ids):
        items = list(ChecklistItem.objects.filter(report_id=report_id).order_by("order"))
        if any(item.kind == NOTES for item in items):
            continue
        ordered, seen = [], set()
        for item in items:
            if item.phase not in seen:
                seen.add(item.phase)
                ordered.append(
                    ChecklistItem.objects.create(
                        report_id=report_id,
                        phase=item.phase,
                        kind=NOTES,
                        label=PROMPTS.get(item.phase, ""),
                        order=OFFSET * 2 + len(ordered),  # out of the way until renumbered
                    )
                )
            ordered.append(item)
        _renumber(ChecklistItem, report_id, ordered)


def remove_notes(apps, schema_editor):
    ChecklistItem = apps.get_model("advisories", "ChecklistItem")
    report_ids = ChecklistItem.objects.filter(kind=NOTES).values_list("report_id", flat=True)
    for report_id in set(report_ids):
        ChecklistItem.objects.filter(report_id=report_id, kind=NOTES).delete()
        items = list(ChecklistItem.objects.filter(report_id=report_id).order_by("order"))
        _renumber(ChecklistItem, report_id, items)


class Migration(migrations.Migration):

    dependencies = [
        ("advisories", "0005_credit_choices_move_to_the_report"),
    ]

    operations = [
        migrations.AlterField(
            model_name="checklistitem",
            name="kind",
            field=models.CharField(
                choices=[("task", "Task"), ("field", "Summary field"), ("notes", "Phase notes")],
                max_length=10,
            ),
        ),
        migrations.RunPython(add_notes, remove_notes),
    ]
