"""The hasher of OAuth2 client secrets (django-oauth-toolkit's CLIENT_SECRET_HASHER).

A password hasher is slow on purpose (PBKDF2: about 240 ms of CPU) because a password can be
guessed: each guess must cost. A generated client secret cannot be guessed (DOT's generator: 128
characters of 62, about 760 bits), so one HMAC-SHA256 with a random salt keeps it hashed at rest
and costs microseconds: a flood of wrong secrets no longer takes the workers' CPU (contract 11).

Registered in PASSWORD_HASHERS after PBKDF2, so user passwords keep PBKDF2, and secrets stored
by it before keep verifying (config.api.oauth stores them again with this hasher once presented).
"""

import hashlib
import hmac

from django.contrib.auth.hashers import BasePasswordHasher, get_hasher
from django.utils.crypto import constant_time_compare

GENERATED_SECRET_MIN_LENGTH = 32


class GeneratedSecretHasher(BasePasswordHasher):
    algorithm = "hmac_sha256"

    def encode(self, password, salt):
        if password is None:
            raise TypeError("password must be provided.")
        if not salt or "$" in salt:
            raise ValueError("salt must be provided and cannot contain $.")
        if not is_generated(password):
            return get_hasher("default").encode(password, salt)
        return f"{self.algorithm}${salt}${_digest(password, salt)}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError(f"not a {self.algorithm} hash")
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        salt = self.decode(encoded)["salt"]
        return constant_time_compare(encoded, f"{self.algorithm}${salt}${_digest(password, salt)}")

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": decoded["salt"][:2] + "*" * (len(decoded["salt"]) - 2),
            "hash": decoded["hash"][:6] + "*" * (len(decoded["hash"]) - 6),
        }

    def harden_runtime(self, password, encoded):
        pass  # no work factor to catch up with


def is_generated(secret: str) -> bool:
    """Whether a secret is long enough to have been generated, not chosen by a person (who may
    choose a guessable one: it gets the default, slow hasher)."""
    return len(secret) >= GENERATED_SECRET_MIN_LENGTH


def _digest(password: str, salt: str) -> str:
    return hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
