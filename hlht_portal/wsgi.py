"""WSGI entry point for production servers (gunicorn, uwsgi): the protocol's paths on a thin path, the rest Django's."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hlht_portal.settings")
django_application = get_wsgi_application()

# Imported once Django is set up (get_wsgi_application did): the apps' models are loaded by then.
from apps.interconnect.server import ProtocolDispatch  # noqa: E402

application = ProtocolDispatch(django_application)
