"""A fake SSB PxWebApi v2 server on 127.0.0.1 for tests, serving tables built from real data."""
