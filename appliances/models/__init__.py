from .appliance import AddressKind, Appliance, ApplianceAddress, FailoverRole

__all__ = ["AddressKind", "Appliance", "ApplianceAddress", "FailoverRole"]
