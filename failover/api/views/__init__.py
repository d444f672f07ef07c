"""API viewsets of the failover app, one module per area."""
