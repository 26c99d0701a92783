module github.com/rastreio/rastreio

go 1.26.8

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/go-telegram-bot-api/telegram-bot-api/v5 v5.5.1
	github.com/mattn/go-sqlite3 v1.14.53
	golang.org/x/time v0.16.0
)

require golang.org/x/sys v0.1.0 // indirect
