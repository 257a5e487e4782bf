module paytrim-auth/bench/coldstart/gocgo

go 1.23.0
