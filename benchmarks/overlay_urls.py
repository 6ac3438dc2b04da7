"""The product's URLs plus `/bench-minimal/`: a Django view with no database and no session, the
ceiling a page served by the same gunicorn in the same run is compared with (benchmarks/run.py).
"""

from django.http import HttpResponse
from django.urls import include, path


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench-minimal/", minimal, name="bench_minimal"),
    path("", include("disclosure.urls")),
]
