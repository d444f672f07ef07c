"""Settings for ``manage.py`` on a developer's machine (cookiecutter-django's local settings): development mode
with the embedded defaults unless the environment says otherwise. Production processes set
``DJANGO_SETTINGS_MODULE=portal.settings`` (the Docker image does), whose defaults are the safe ones."""

import os

os.environ.setdefault("DEBUG", "True")

from .settings import *  # noqa: E402,F403
