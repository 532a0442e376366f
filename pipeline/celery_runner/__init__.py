"""The Celery runner: the same stage functions as `compactwatch run`, on N worker processes.

    compactwatch scheduler          one process: due feeds, relay tick, weekly digest → queues
    compactwatch worker --queues    feeds (IO: poll a feed) and cpu (fetch+extract+classify+store)
    compactwatch relay              the outbox relay as a process of its own (any number)

Tasks are thin: they call the orchestrator's functions and the store. Exactly-once effects
on an at-least-once queue come from the store (article unique per canonical URL, alert
unique per story and channel, feed polls leased), not from the queue.
"""
