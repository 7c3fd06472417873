#!/usr/bin/env bash
# Generates throw-away TLS test certificates (EC P-256) into DIR with the openssl CLI. Nothing here is
# committed: the TLS tests run this at test time into a temporary directory.
# Usage: scripts/test-certs.sh DIR
# Makes, in DIR:
#   ca.pem ca.key                   test CA
#   server.pem server.key           server leaf signed by the CA, subjectAltName IP:127.0.0.1, DNS:localhost
#   client.pem client.key           client leaf signed by the CA (CN=client.tandem.test)
#   other-ca.pem other-ca.key       a second, untrusted CA
#   bad-client.pem bad-client.key   client leaf signed by the other CA
#   dh.pem                          DH parameters (RFC 7919 ffdhe2048, no generation time)
#   cadir/                          the CA in a hashed directory (for ca_dir)
# Exit code: 0 when every file was made.
set -euo pipefail
dir=${1:?usage: test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=2

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() {  # NAME CN
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/O=Tandem tests/CN=$2" -days "$days" -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.pem" 2>/dev/null
}

leaf() {  # NAME CN CA EXTENSIONS
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/O=Tandem tests/CN=$2" -out "$1.csr" 2>/dev/null
    printf '%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days "$days" -sha256 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

ca ca "Tandem test CA"
ca other-ca "Other test CA"
leaf server localhost ca "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
leaf client client.tandem.test ca "subjectAltName=DNS:client.tandem.test
extendedKeyUsage=clientAuth,serverAuth"
leaf bad-client bad.tandem.test other-ca "subjectAltName=DNS:bad.tandem.test
extendedKeyUsage=clientAuth"
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem 2>/dev/null
mkdir -p cadir
cp ca.pem cadir/
openssl rehash cadir 2>/dev/null || ln -sf ca.pem "cadir/$(openssl x509 -hash -noout -in ca.pem).0"
rm -f ./*.srl
