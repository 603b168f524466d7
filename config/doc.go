// Package config owns bankfeed's settings: one Config of plain data, its
// zero-set-up defaults (Default), loading from a YAML file plus BANKFEED_*
// environment variables with secrets from the environment or *_FILE (Load),
// a check that reports every problem at once (Validate), and the one-time
// generation of secrets for an embedded SQLite installation (EnsureSecrets).
//
// It must not import any project package: cmd/bankfeed turns a Config into
// each feature package's own Config, so features never read files, flags or
// the environment themselves.
package config
