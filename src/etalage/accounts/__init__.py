"""Identity: users and their roles, merchant organisations and members, sessions, API tokens, pseudonyms."""
