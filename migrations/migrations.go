// Package migrations holds the SQLite schema as numbered SQL files,
// embedded so both binaries carry it. internal/store applies them in
// lexical order and records the version in PRAGMA user_version.
package migrations

import "embed"

// FS holds every NNN_name.sql file of this directory.
//
//go:embed *.sql
var FS embed.FS
