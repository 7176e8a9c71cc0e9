"""The identity providers, one module each: ``get(authentication)`` and ``all()``.

Every module of this package but ``base`` holds one provider as ``provider``; importing the
package registers them all. Adding a provider is adding a module (and its tests).
"""

import importlib
import pkgutil

from .base import ClaimsMapping, ConnectionField, Provider, SamlMapping

__all__ = ["ClaimsMapping", "ConnectionField", "Provider", "SamlMapping", "all", "find", "get", "register",
           "unregister"]

_registry: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    if provider.key in _registry and _registry[provider.key] is not provider:
        raise ValueError(f"Two identity providers use the key {provider.key!r}.")
    _registry[provider.key] = provider
    return provider


def unregister(provider: Provider) -> None:
    _registry.pop(provider.key, None)


def find(authentication: str) -> Provider | None:
    """The provider of accounts whose ``MitelAccount.authentication`` is ``authentication``, if any."""
    return _registry.get(authentication)


def get(authentication: str) -> Provider:
    """The provider of accounts whose ``MitelAccount.authentication`` is ``authentication``."""
    provider = find(authentication)
    if provider is None:
        raise LookupError(f"No identity provider {authentication!r}.")
    return provider


def all() -> list[Provider]:
    """Every provider, in the order of their modules' names."""
    return list(_registry.values())


for _module in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _module.name != "base":
        register(importlib.import_module(f"{__name__}.{_module.name}").provider)
