"""Typed methods over the request pipeline, one module per API resource."""
