#!/bin/sh
# A private CA and the certificates docker compose's Temporal uses for mutual TLS:
#   ca.pem (trusted by both sides), server.pem + server-key.pem (the name "temporal"),
#   client.pem + client-key.pem (the worker, the gateway, the setup job and the UI).
# Usage: deploy/tls/make-certs.sh [DIR]   (default: deploy/tls; keep the keys out of git)
# 私有 CA 与 Temporal 双向 TLS 证书 / a private CA and Temporal's mutual-TLS certificates.
set -eu
dir="${1:-$(dirname "$0")}"
days="${CERT_DAYS:-825}"
mkdir -p "$dir"
cd "$dir"
umask 077
openssl req -x509 -newkey rsa:3072 -nodes -days "$days" -subj "/CN=navcycle temporal CA" \
  -keyout ca-key.pem -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() { # name, subject CN, extensions
  openssl req -newkey rsa:3072 -nodes -subj "/CN=$2" -keyout "$1-key.pem" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
issue server temporal "subjectAltName=DNS:temporal,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
issue client navcycle "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
rm -f ca.srl
# Containers read them as another user: the certificates are public, the keys readable too
# (the directory is mounted read-only into the containers that need it; protect the host dir).
chmod 644 ca.pem server.pem client.pem server-key.pem client-key.pem
echo "written to $dir: ca.pem server.pem server-key.pem client.pem client-key.pem (ca-key.pem: keep offline)"
