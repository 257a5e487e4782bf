// The peer of bench/coldstart/cold.c: one new process, one client-credentials
// token from the emulator with golang.org/x/oauth2/clientcredentials, over
// HTTPS trusting the system roots plus the emulator's CA file (the same
// trust paytrim-auth is given: tls_roots=system, ca_file=CA).
//
// usage: coldgo TOKEN_URL CA_FILE|- CLIENT_ID CLIENT_SECRET ("-": the system
// roots only). Prints "ok <token length> <µs from main() to token>" on stdout.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	start := time.Now()
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: coldgo TOKEN_URL CA_FILE|- CLIENT_ID CLIENT_SECRET")
		os.Exit(2)
	}
	tokenURL, caFile, clientID, secret := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	roots, err := x509.SystemCertPool()
	if err != nil {
		fmt.Fprintln(os.Stderr, "system roots:", err)
		os.Exit(1)
	}
	if caFile != "-" {
		pem, err := os.ReadFile(caFile)
		if err != nil || !roots.AppendCertsFromPEM(pem) {
			fmt.Fprintln(os.Stderr, "ca file:", err)
			os.Exit(1)
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: transport})
	cfg := clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		TokenURL:     tokenURL,
		Scopes:       []string{"https://graph.microsoft.com/.default"},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	fmt.Printf("ok %d %d\n", len(tok.AccessToken), time.Since(start).Microseconds())
}
