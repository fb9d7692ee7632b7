"""Plumbing shared by every domain: errors, HTTP middleware, pagination, money, rate limits, jobs, bus."""
