// Command bankfeed is the bank's OAuth provider, data API and business
// administration in one binary. This package is the only place that knows
// every other package: it loads config, opens the store, builds each
// feature's own Config and mounts it on one echo router (newHandler), and
// offers the subcommands serve, migrate, demo seed, clients, keys, import,
// business and version.
//
// Nothing imports cmd; feature packages must not read flags, files or the
// environment themselves.
package main
