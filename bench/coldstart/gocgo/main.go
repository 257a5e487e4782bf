// A Go program that gets its token from paytrim-auth through cgo (the C ABI
// of libpaytrim_auth.so), to set beside ../go (golang.org/x/oauth2): the
// same process kind (Go runtime), the same emulator, the same trust.
//
// Build: CGO_CFLAGS=-I<repo>/include CGO_LDFLAGS="-L<lib dir> -lpaytrim_auth -Wl,-rpath,<lib dir>" go build
// usage: coldcgo AUTHORITY_HOST TENANT CA_FILE|- CLIENT_ID CLIENT_SECRET
// Prints "ok <token length> <µs from main() to token>" on stdout.
package main

/*
#include <stdlib.h>
#include <string.h>
#include "paytrim_auth.h"
*/
import "C"

import (
	"fmt"
	"os"
	"time"
	"unsafe"
)

func set(cfg *C.paytrim_auth_config, key, value string) {
	k, v := C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(k))
	defer C.free(unsafe.Pointer(v))
	if e := C.paytrim_auth_config_set(cfg, k, v); e != nil {
		fail(key, e)
	}
}

func fail(what string, e *C.paytrim_auth_error) {
	fmt.Fprintln(os.Stderr, what+":", C.GoString(C.paytrim_auth_error_message(e)))
	os.Exit(1)
}

func main() {
	start := time.Now()
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: coldcgo AUTHORITY_HOST TENANT CA_FILE|- CLIENT_ID CLIENT_SECRET")
		os.Exit(2)
	}
	cfg := C.paytrim_auth_config_new()
	set(cfg, "authority_host", os.Args[1])
	set(cfg, "tenant", os.Args[2])
	if os.Args[3] != "-" {
		set(cfg, "ca_file", os.Args[3])
	}
	id, secret := C.CString(os.Args[4]), C.CString(os.Args[5])
	var client *C.paytrim_auth_client
	if e := C.paytrim_auth_client_new(id, secret, cfg, &client); e != nil {
		fail("client_new", e)
	}
	C.paytrim_auth_config_free(cfg)
	var token *C.char
	var expires C.int64_t
	if e := C.paytrim_auth_client_get_token(client, &token, &expires); e != nil {
		fail("get_token", e)
	}
	n := C.strlen(token)
	took := time.Since(start).Microseconds()
	C.paytrim_auth_string_free(token)
	C.paytrim_auth_client_free(client)
	fmt.Printf("ok %d %d\n", n, took)
}
