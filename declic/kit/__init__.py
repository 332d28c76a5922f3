"""The service kit shared by all Declic services.

Server start-up (health, reflection, interceptors, graceful stop), typed
configuration, database and migrations, Redis, the durable hand-off stream,
clocks, client channels and the error type mapped to gRPC status codes.
"""
