"""Writing mail: composing from templates, the durable outbox, sending adapters."""
