"""Multi-session assistant chats, hand-written, with gold facts, evidence and questions."""
