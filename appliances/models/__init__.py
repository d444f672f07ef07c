from .appliance import Appliance, ApplianceAddress, AddressKind, FailoverRole

__all__ = ["AddressKind", "Appliance", "ApplianceAddress", "FailoverRole"]
