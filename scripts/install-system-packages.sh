#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: chromium (browser tests), wrk and
# prometheus-blackbox-exporter (probe benchmark), knot (the authoritative DNS server the DNS swing tests
# update over RFC 2136 with TSIG), prometheus (scrapes /metrics in a
# slow test), caddy (the TLS front of the production-stack test, as in docker/Caddyfile), redis-server (the
# private brokers that tests/portal/test_broker_restart.py and bench/chaos.py restart; the shared one is never
# restarted).
# Installed only when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ -x /usr/bin/prometheus-blackbox-exporter ] || need+=(prometheus-blackbox-exporter)
[ -x /usr/sbin/knotd ] || need+=(knot)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # the blackbox exporter's package starts a service listening on all addresses; the benchmark runs its own.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now prometheus-blackbox-exporter >/dev/null 2>&1 || true; fi
  pkill -f '^/usr/bin/prometheus-blackbox-exporter' >/dev/null 2>&1 || true
  # prometheus's package starts a server on :9090; the test runs its own on a free loopback port.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  # knot's package enables a system DNS server; the tests start their own on a free loopback port.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now knot >/dev/null 2>&1 || true; fi
  # caddy's package enables a web server on ports 80/443; the test starts its own on free ports.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now caddy >/dev/null 2>&1 || true; fi
fi
