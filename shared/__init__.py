"""What every newsflow service needs: settings, message models, the Celery app, the base task,
errors and dead letters, logging, metrics and the Redis client.

Nothing in this package may import from ``services``: data flows one way, and the stages only
meet through the message models and task names defined here.
"""
