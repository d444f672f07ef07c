"""Shorthands shared by the simulator tests."""

from simulator.testing import ApplianceClient


def client(sim, name, **kwargs) -> ApplianceClient:
    return ApplianceClient(sim, name, **kwargs)


def pair(sim, index=0):
    """(primary, backup) fleet entries of the index-th pair."""
    return sim.pairs()[index]


def single(sim):
    paired = {a["name"] for p in sim.pairs() for a in p}
    return next(a for a in sim.appliances() if a["name"] not in paired)


def text(root, tag):
    element = root.find(tag)
    return None if element is None else element.text


def role(sim, spec):
    return sim.state(spec["address"])["role"]
