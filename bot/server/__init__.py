"""The server behind `bot serve`: the HTTP API, the widget and the web chat on one FastAPI app.

- app.py: create_app() and serve()
- routes.py: every route, as module-level functions on one APIRouter
- schemas.py: request and response models (what /docs shows)
- errors.py: the one JSON error shape and its handlers
- middleware.py: request ids, request logging, body-size limit
- auth.py: API keys and widget session tokens; limits.py: rate limits
- loader.py: the bot, loaded in the background; feedback.py: the feedback store
- web.py: the Gradio web chat mounted at /
"""
