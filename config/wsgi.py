import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A web process loads torch and the CNN (seconds) in the background as it starts, rather than in the first
# shopper's search by photo; pages are served meanwhile, and a search that comes first waits for the load.
from search.serving import embedder_warm  # noqa: E402

threading.Thread(target=embedder_warm, name="embedder-warm", daemon=True).start()
