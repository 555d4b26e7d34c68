"""An object's version as clients see it. Kept apart from the models so the protocol's error
handling (set up with logging, before the app registry) can import it."""


def etag(version: int) -> str:
    """The ETag of an object at this version (`"3"`)."""
    return f'"{version}"'
