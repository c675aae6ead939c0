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
    # The tests start each server themselves on loopback. Debian's maintainer scripts would
    # start slapd and Samba as system services, which would hold the ports the tests use,
    # so service starts are denied during the install unless the host already has a policy.
    own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
      own_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # Without this debconf setting the slapd package builds a database of its own for the
    # host's domain, but the tests need only the binaries.
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if [ -n "$own_policy" ]; then
      rm -f /usr/sbin/policy-rc.d
      trap - EXIT
    fi
  fi
fi

# The review mail tests send through an aiosmtpd sink in a virtual environment of its own.
"$(dirname "$0")/install-smtp-sink.sh"
# The reviews web tests sign in against a real OpenID provider (oidc-provider on Node).
"$(dirname "$0")/install-test-idp.sh"
# The reviews web browser test drives Debian's chromium with playwright-core.
"$(dirname "$0")/install-test-browser.sh"
