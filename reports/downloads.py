"""How a report's attachment is served, by the site and by the API alike: always as a download
(never rendered by the browser), as opaque bytes, never cached by anyone in between.
"""

from django.http import FileResponse


def attachment_response(attachment):
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
