#!/usr/bin/env bash
# Installs the Debian packages the test suite needs beyond the Rust toolchain and the
# servers the machine already runs (PostgreSQL, NATS, Redis; see scripts/services.sh).
set -euo pipefail
# nats-server: the bus tests and the file connector's outage test start their own
# server, to stop it mid-stream.
# slapd, ldap-utils: the LDAP connector tests start their own OpenLDAP server and export
# it with ldapsearch. samba-ad-dc: they also provision a Samba Active Directory domain
# controller on loopback (samba-ad-provision contains the AD schema it needs).
packages=(nats-server slapd ldap-utils samba-ad-dc samba-ad-provision)
if [ "${#packages[@]}" -gt 0 ]; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    # Without this debconf setting the slapd package builds a database of its own for the
    # host's domain, but the tests need only the binaries.
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
