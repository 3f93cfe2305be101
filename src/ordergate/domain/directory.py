"""What ordergate says about the integrations it knows, rendered from the venue catalogue (the same data as the
README's venue table and featureList): Mesh's IntegrationModel, BrokerAuthenticationScheme and
B2BBrokersHealthStatus. Nothing here calls a venue."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from ordergate.coordination import Coordination
from ordergate.domain.cancel import venue_back_off_id
from ordergate.domain.integrations import IntegrationType
from ordergate.venues.base import VenueSpec
from ordergate.venues.catalog import AUTH_SCHEME_TYPES, CATEGORIES, INSTRUCTIONS_URLS, MFA, SPECS
from ordergate.venues.health import VenueHealth
from ordergate.venues.registry import VenueRegistry

# uuid5 namespace of integration ids: the same id for a type in every deployment and release.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/ordergate/ordergate/integrations")
# Mesh BrokerFeature: ordergate cancels orders and reads them back (details); it has no other product.
_PRODUCTS = ["orders"]


def integration_id(integration: IntegrationType) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, integration.value))


def supported(registry: VenueRegistry, integration: IntegrationType) -> bool:
    return registry.adapter(integration) is not None


def integrations() -> dict[str, Any]:
    """Mesh IntegrationsResponse: every type ordergate knows, in Mesh's BrokerType order."""
    return {
        "items": [
            {
                "id": integration_id(t),
                "name": SPECS[t].name,
                "type": t.value,
                "categories": list(CATEGORIES[t]),
                "cryptoTransfersSupported": False,
            }
            for t in IntegrationType
        ]
    }


def _field(entry: str) -> dict[str, str]:
    """`username=API key` → Mesh AuthenticationFieldDescription, named as in Mesh's own example (`Username`)."""
    name, _, description = entry.partition("=")
    return {"name": name[:1].upper() + name[1:], "description": description.replace("`", "")}


def authentication_scheme(spec: VenueSpec) -> dict[str, Any]:
    family = spec.family or ""
    fields = [_field(entry) for entry in spec.credential_fields]
    fields.append({"name": "Type", "description": spec.type.value})
    scheme: dict[str, Any] = {
        "brokerType": spec.type.value,
        "authenticationSchemeType": AUTH_SCHEME_TYPES.get(family, "apiKey"),
        "initialAuthenticationModel": {"fields": fields},
        "mfaSchemes": [],
        "instructionsUrl": INSTRUCTIONS_URLS.get(family),
    }
    if family in MFA:
        mfa_scheme, mfa_type = MFA[family]
        scheme["mfaSchemes"] = [mfa_scheme]
        scheme["authenticationSteps"] = [
            {
                "authResponse": {"status": "mfaRequired", "mfaType": mfa_type},
                "fields": [{"name": "MfaCode", "description": "The key's current one-time code"}],
            }
        ]
    return scheme


def authentication_schemes(registry: VenueRegistry) -> list[dict[str, Any]]:
    """Only the types ordergate can connect: a scheme for any other would invite an authenticate that fails."""
    return [authentication_scheme(SPECS[t]) for t in IntegrationType if supported(registry, t)]


async def _venue_cooldown(
    coordination: Coordination, registry: VenueRegistry, t: IntegrationType
) -> tuple[float, str] | None:
    spec = registry.spec(t)
    adapter = registry.adapter(t)
    if adapter is None or not spec.limits_per_ip:
        return None
    try:
        return await coordination.check(venue_back_off_id(spec, adapter.base_url))
    except Exception:  # noqa: BLE001 - Redis down: answer from this process's own record
        return None


async def health_statuses(
    registry: VenueRegistry, health: VenueHealth, coordination: Coordination
) -> list[dict[str, Any]]:
    """Mesh B2BBrokersHealthStatus per type, from what ordergate saw; no upstream call."""
    served = [t for t in IntegrationType if supported(registry, t)]
    shared = await health.shared_streaks([t.value for t in served])
    cooldowns = await asyncio.gather(*(_venue_cooldown(coordination, registry, t) for t in served))
    by_type = dict(zip(served, cooldowns, strict=True))
    out = []
    for t in IntegrationType:
        spec = registry.spec(t)
        row: dict[str, Any] = {"type": t.value, "name": spec.name}
        if t not in by_type:
            why = spec.no_cancel_api or f"ordergate has no adapter for {spec.name}."
            row.update(isUp=False, description=f"ordergate does not support {spec.name}: {why}", supportedProducts=[])
        else:
            outage = health.outage(t, shared.get(t.value), by_type[t])
            row.update(isUp=outage is None, supportedProducts=list(_PRODUCTS))
            if outage is not None:
                row.update(description=outage.description, downTimeStart=outage.start)
                if outage.end is not None:
                    row["downTimeEnd"] = outage.end
        out.append(row)
    return out
