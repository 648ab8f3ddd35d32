#!/usr/bin/env bash
# tools/dev_certs.sh: makes a private CA and a server certificate for running aggregatord with TLS on a
# development machine (DEVELOPMENT ONLY: the CA key is left on disk next to the certificates).
#
# Usage: bash tools/dev_certs.sh [OUT_DIR] [EXTRA_NAME...]
#   OUT_DIR      where to write the files (default: ./dev-certs); created with mode 0700.
#   EXTRA_NAME   additional DNS names for the server certificate (localhost and 127.0.0.1 are always in).
#
# Writes: ca.pem (give it to aggctl --ca_file and to clients), ca.key, server.pem, server.key (0600).
# Then:   aggregatord --tls_cert=OUT_DIR/server.pem --tls_key=OUT_DIR/server.key ...
#         aggctl --ca_file=OUT_DIR/ca.pem --server=localhost:PORT ...
# Only the `openssl` command is needed. Existing files are replaced.
set -euo pipefail

out=${1:-dev-certs}
shift || true
command -v openssl >/dev/null || { echo "dev_certs: the openssl command is required" >&2; exit 1; }

umask 077
mkdir -p "$out"
chmod 0700 "$out"

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do san+=",DNS:${name}"; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# CA: P-256 key, self-signed, 10 years, may sign only end-entity certificates.
openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key" 2>/dev/null
cat >"$tmp/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = pinning-telemetry development CA
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
openssl req -new -x509 -sha256 -days 3650 -key "$out/ca.key" -config "$tmp/ca.cnf" -out "$out/ca.pem"

# Server: P-256 key, 825 days, localhost and 127.0.0.1 in the subject alternative names.
openssl ecparam -name prime256v1 -genkey -noout -out "$out/server.key" 2>/dev/null
openssl req -new -sha256 -key "$out/server.key" -subj "/CN=localhost" -out "$tmp/server.csr"
cat >"$tmp/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${san}
EOF
openssl x509 -req -sha256 -days 825 -in "$tmp/server.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -extfile "$tmp/server.ext" -out "$out/server.pem" 2>/dev/null

chmod 0600 "$out/ca.key" "$out/server.key"
chmod 0644 "$out/ca.pem" "$out/server.pem"
openssl verify -CAfile "$out/ca.pem" "$out/server.pem" >/dev/null
echo "dev_certs: wrote $out/ca.pem $out/ca.key $out/server.pem $out/server.key (names: $san)"
