"""What the hand-written SQL of every layer shares."""


def quoted(name: str) -> str:
    """One of our own table or column names, quoted the SQL-standard way (PostgreSQL and SQLite
    alike); our names never hold a double quote."""
    return f'"{name}"'
