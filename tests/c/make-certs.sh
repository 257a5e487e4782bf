#!/usr/bin/env bash
# Makes the keys and certificates tests/c/test_credentials.c uses, in DIR,
# with the openssl CLI (RSA 2048, self-signed, valid for 2 days), and a
# federated token (unsigned claims: the emulator checks iss/sub/aud/exp).
# Usage: tests/c/make-certs.sh DIR
set -euo pipefail
d="$1"
gen() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$1.key" -out "$d/$1.crt" -days 2 -subj "/CN=paytrim-$1" 2>/dev/null; }
gen main
gen other
cp "$d/main.crt" "$d/cert.pem"
cp "$d/main.key" "$d/key.pem"
cat "$d/main.crt" "$d/main.key" >"$d/combined.pem"
cat "$d/main.crt" "$d/other.key" >"$d/wrongkey.pem"
cat "$d/other.crt" "$d/other.key" >"$d/other.pem"
openssl pkcs12 -export -in "$d/main.crt" -inkey "$d/main.key" -passout pass:pfx-pw -out "$d/cert.pfx"
python3 - "$d/federated.jwt" <<'PY'
import base64, json, sys, time
b = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
now = int(time.time())
claims = {"iss": "https://oidc.example/c-test", "sub": "system:serviceaccount:c:test",
          "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + 3600}
open(sys.argv[1], "w").write(b({"alg": "RS256", "typ": "JWT"}) + "." + b(claims) + ".c2ln")
PY
