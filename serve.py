"""The server entry: app.py (the Streamlit app) behind MAS Screen's server-surface middleware.

    streamlit run serve.py        # what ./run.sh and deploy/serve-ward.sh start

Streamlit finds `app` (an st.App) and serves it with uvicorn; the pages are app.py's. The middleware
adds the security headers and closes the metrics endpoint (mas_screen/ui/server_surface.py).
"""

import streamlit as st
from starlette.middleware import Middleware

from mas_screen.ui.server_surface import ServerSurface

app = st.App("app.py", middleware=[Middleware(ServerSurface)])
