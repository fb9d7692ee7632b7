"""Shoppable content: short videos (upload, transcoding, serving), product tags, live rooms, comments."""
