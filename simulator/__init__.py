"""Stand-alone simulator of a fleet of BeyondTrust-style failover appliances.

Run with ``python -m simulator serve --fleet FLEET.yaml --state-dir DIR``. Nothing in this
package may import Django: the simulator must run (and be tested) without the portal.
"""

XML_NAMESPACE = "https://www.beyondtrust.com/namespaces/API/command"
