// presence-loadtest: load scenarios and hot-path benchmarks for presence-gateway.
// See loadtest/README.md.
PresenceLoadtest.main()
