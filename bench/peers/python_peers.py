"""MSAL Python and azure-identity next to paytrim-auth (called from Python
through ctypes), against the same emulator: cache-hit cost, cold fetch, and
requests sent by 32 concurrent first callers. One JSON line per library.

Environment: EMU_HTTPS, EMU_HTTP, EMU_CA, EMU_ID, EMU_SECRET (the emulator),
PAYTRIM_AUTH_LIB (libpaytrim_auth.so). Run with the venv that has msal and
azure-identity (scripts/bench.sh makes it under target/bench-peers).

The emulator serves no OpenID discovery document. Both peers fetch
GET {authority}/v2.0/.well-known/openid-configuration once per new
application object (with instance discovery disabled; otherwise first
GET https://login.microsoftonline.com/common/discovery/instance?...), so this
emulator serves that document, so the peers run unmodified, discovery GET
included (instance discovery is disabled: it would go to
login.microsoftonline.com). With --stub the document is answered in-process
instead (msal.authority.tenant_discovery), as against an emulator without it;
--check-discovery only reports whether each contender gets a token.
"""
import ctypes
import json
import os
import statistics
import sys
import threading
import time
import urllib.request

HTTPS, HTTP, CA = os.environ["EMU_HTTPS"], os.environ["EMU_HTTP"], os.environ["EMU_CA"]
CLIENT_ID, SECRET = os.environ["EMU_ID"], os.environ["EMU_SECRET"]
TENANT = "contoso.onmicrosoft.com"
os.environ["REQUESTS_CA_BUNDLE"] = CA  # requests (msal, azure-core's RequestsTransport)
os.environ["SSL_CERT_FILE"] = CA

import msal  # noqa: E402
import msal.authority  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402

STUB = "--stub" in sys.argv
QUICK = os.environ.get("PAYTRIM_BENCH_QUICK") == "1"
discovery_answered = 0
_real_tenant_discovery = msal.authority.tenant_discovery


def _stub_tenant_discovery(endpoint, http_client, **kwargs):
    global discovery_answered
    if STUB and endpoint.startswith(HTTPS + "/") and endpoint.endswith("/.well-known/openid-configuration"):
        discovery_answered += 1
        base = endpoint[: -len("/v2.0/.well-known/openid-configuration")]
        return {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "issuer": base + "/v2.0",
            "jwks_uri": base + "/discovery/v2.0/keys",
        }
    return _real_tenant_discovery(endpoint, http_client, **kwargs)


msal.authority.tenant_discovery = _stub_tenant_discovery


def token_requests():
    with urllib.request.urlopen(HTTP + "/_emulator/stats") as r:
        return json.load(r)["token_requests"]


# --- the three contenders: make(scope) -> get() returning the token string ---

def msal_make(scope):
    app = msal.ConfidentialClientApplication(
        CLIENT_ID, client_credential=SECRET, authority=f"{HTTPS}/{TENANT}",
        instance_discovery=False, validate_authority=False)

    def get():
        r = app.acquire_token_for_client(scopes=[scope])
        if "access_token" not in r:
            raise RuntimeError(f"msal: {r.get('error')}: {r.get('error_description')}")
        return r["access_token"]
    return get


def azid_make(scope):
    cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET, authority=HTTPS,
                                  disable_instance_discovery=True)

    def get():
        return cred.get_token(scope).token
    return get


lib = ctypes.CDLL(os.environ["PAYTRIM_AUTH_LIB"])
lib.paytrim_auth_config_new.restype = ctypes.c_void_p
lib.paytrim_auth_config_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
lib.paytrim_auth_config_set.restype = ctypes.c_void_p
lib.paytrim_auth_config_free.argtypes = [ctypes.c_void_p]
lib.paytrim_auth_client_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.paytrim_auth_client_new.restype = ctypes.c_void_p
lib.paytrim_auth_client_get_token.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int64)]
lib.paytrim_auth_client_get_token.restype = ctypes.c_void_p
lib.paytrim_auth_string_free.argtypes = [ctypes.c_void_p]
lib.paytrim_auth_error_message.argtypes = [ctypes.c_void_p]
lib.paytrim_auth_error_message.restype = ctypes.c_char_p


def ours_make(scope):
    cfg = lib.paytrim_auth_config_new()
    for k, v in (("tenant", TENANT), ("authority_host", HTTPS), ("ca_file", CA), ("scope", scope)):
        assert not lib.paytrim_auth_config_set(cfg, k.encode(), v.encode())
    client = ctypes.c_void_p()
    err = lib.paytrim_auth_client_new(CLIENT_ID.encode(), SECRET.encode(), cfg, ctypes.byref(client))
    lib.paytrim_auth_config_free(cfg)
    assert not err
    get_token, string_free, string_at = lib.paytrim_auth_client_get_token, lib.paytrim_auth_string_free, ctypes.string_at
    c_void_p, c_int64, byref = ctypes.c_void_p, ctypes.c_int64, ctypes.byref

    def get():
        tok, exp = c_void_p(), c_int64()  # per call: callers may be on many threads
        err = get_token(client, byref(tok), byref(exp))
        if err:
            raise RuntimeError(lib.paytrim_auth_error_message(err).decode())
        s = string_at(tok.value).decode()
        string_free(tok)
        return s
    return get


CONTENDERS = {"paytrim-auth (ctypes)": ours_make, "msal": msal_make, "azure-identity": azid_make}


def hit_ns(get, n):
    get()
    for _ in range(n // 5):
        get()
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            get()
        rounds.append((time.perf_counter() - t) * 1e9 / n)
    return statistics.median(rounds)


def cold_ms(make, tag, n):
    times = []
    for i in range(n):
        t = time.perf_counter()
        make(f"api://{tag}-cold{i}/.default")()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def stampede(make, tag, callers=32):
    get = make(f"api://{tag}-stampede/.default")
    barrier = threading.Barrier(callers)
    errors = []

    def caller():
        barrier.wait()
        try:
            get()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    before = token_requests()
    threads = [threading.Thread(target=caller) for _ in range(callers)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = (time.perf_counter() - t) * 1e3
    if errors:
        raise RuntimeError(errors[0])
    return token_requests() - before, elapsed


def main():
    if "--check-discovery" in sys.argv:
        for name, make in CONTENDERS.items():
            try:
                make("api://nostub/.default")()
                print(json.dumps({"name": name, "without_discovery_stub": "ok"}))
            except Exception as e:  # noqa: BLE001
                print(json.dumps({"name": name, "without_discovery_stub": repr(e)[:400]}))
        return
    n_hit = 2000 if QUICK else 10000
    for name, make in CONTENDERS.items():
        tag = name.split()[0]
        before_disc = discovery_answered
        h = hit_ns(make(f"api://{tag}-hit/.default"), n_hit if tag != "paytrim-auth" else n_hit * 20)
        c = cold_ms(make, tag, 5 if QUICK else 15)
        requests, st_ms = stampede(make, tag)
        print(json.dumps({
            "name": name, "lang": "python", "hit_ns": round(h, 1), "cold_fetch_ms": round(c, 3),
            "stampede32_requests": requests, "stampede32_ms": round(st_ms, 2),
            "discovery_answered_in_process": discovery_answered - before_disc,
        }), flush=True)


main()
