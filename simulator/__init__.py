"""Stand-alone simulator of a fleet of BeyondTrust-style failover appliances.

Run with ``python -m simulator serve --fleet FLEET.yaml --state-dir DIR``. Nothing in this
package may import Django: the simulator must run (and be tested) without the portal.
"""

XML_NAMESPACE = "https://www.beyondtrust.com/namespaces/API/command"
# What real 19.x appliances put on the wire (reference notes §1): the older Bomgar namespace, over http.
VENDOR_XML_NAMESPACE = "http://www.bomgar.com/namespaces/API/command"
