#!/usr/bin/env bash
# Security (issue 9, point 6): TLS and SQL.
# TLS: libcurl verifies the server's certificate and host name by default;
# nothing in lib/ or cmd/ turns that off (CURLOPT_SSL_VERIFYPEER/HOST set
# to 0), and against a real TLS server with a self-signed certificate
# (openssl s_server on 127.0.0.1) carnet-sync, carnet-sms-send (kannel)
# and carnet-sms-fetch (twilio) refuse to talk, saying why, and send no
# secret.
# SQL: values reach SQLite only through bound parameters: every place
# that builds SQL text at run time (tests/sql-builders.pl: printf-like
# calls with SQL and a conversion, appends to SQL buffers) must be one of
# the reviewed constant-only builders of tests/data/sql-builders.txt.
. "$(dirname "$0")/../lib.sh"

# --- TLS: no switch turns verification off ---------------------------------------------
hits=$(grep -rnE 'CURLOPT_(PROXY_)?SSL_VERIFY(PEER|HOST)[^;]*,[[:space:]]*(0|0L|false)[[:space:]]*\)' \
	"$TOP/lib" "$TOP/cmd")
is "$hits" "" "no CURLOPT_SSL_VERIFYPEER/HOST set to 0 in lib/ or cmd/"
hits=$(grep -rnE 'CURLOPT_SSL_VERIFY(PEER|HOST)' "$TOP/lib" "$TOP/cmd" |
	grep -v 'VERIFY\(PEER\|HOST\)[^;]*, *\(1\|1L\|2\|2L\) *)')
is "$hits" "" "any setting of them is to verify (the libcurl default)"
is "$(grep -rniE 'insecure|no-verify|verify_tls|tls_verify' "$TOP/lib" "$TOP/cmd" | wc -l)" 0 \
	"no option to skip the verification exists"

# --- TLS: a real server with a self-signed certificate --------------------------------
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		>/dev/null 2>&1
	# port 0: a free one, which s_server prints as "ACCEPT 127.0.0.1:PORT"
	openssl s_server -accept 127.0.0.1:0 -cert cert.pem -key key.pem \
		-www >s_server.log 2>&1 &
	SPID=$!
	trap 'kill $SPID 2>/dev/null; cd /; rm -rf "$T"' EXIT
	PORT=
	for _ in $(seq 200); do
		PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' s_server.log)
		[ -n "$PORT" ] && break
		sleep 0.05
	done
	ok "$(curl -sk -o /dev/null "https://127.0.0.1:$PORT/" && echo 0 || echo 1)" \
		"the TLS server answers (curl -k)"
	export CARNET_SYNC_PASSWORD=Tls-s3cret-1 CARNET_KANNEL_PASSWORD=Tls-s3cret-2
	export CARNET_TWILIO_AUTH_TOKEN=Tls-s3cret-3
	printf 'sync:\n  url: https://127.0.0.1:%s/db\n  username: a\nsms:\n  driver: kannel\n  kannel:\n    url: https://127.0.0.1:%s/cgi-bin/sendsms\n    username: u\n' \
		"$PORT" "$PORT" >conf.yaml
	run carnet-sync --config conf.yaml
	is "$status" 77 "carnet-sync to a self-signed server: 77 (not worth retrying from cron)"
	like "$err" "certificate|SSL|TLS" "and says it is the certificate"
	is "$(sql "SELECT count(*) FROM sync_item WHERE state = 'synced'")" 0 \
		"nothing was marked synced"
	run carnet-sms-send --config conf.yaml --retries 0 --to +33612345678 --text hi --format csv
	is "$status" 77 "carnet-sms-send through a self-signed gateway: 77 (not worth retrying), nothing sent"
	like "$out$err" "certificate|SSL|TLS" "the error says it is the certificate"
	is "$(sql "SELECT count(*) FROM message WHERE status = 'sent'")" 0 "no message counts as sent"
	printf 'sms:\n  driver: twilio\n  twilio:\n    base_url: https://127.0.0.1:%s\n    account_sid: AC1\n' \
		"$PORT" >tw.yaml
	run carnet-sms-fetch --config tw.yaml
	is "$status" 77 "carnet-sms-fetch (twilio) from a self-signed server: 77"
	like "$err" "certificate|SSL|TLS" "and says it is the certificate"
	kill "$SPID"
	wait "$SPID" 2>/dev/null
	unlike "$(cat s_server.log)" "Tls-s3cret" "no secret reached the server"
else
	echo "# openssl is missing: the live TLS checks are skipped"
fi

# --- SQL only through bound parameters ------------------------------------------------
perl "$TOP/tests/sql-builders.pl" "$TOP"/lib/*.c "$TOP"/cmd/*.c | sort >found.txt
grep -v '^#' "$TOP/tests/data/sql-builders.txt" | cut -f1 | sort >reviewed.txt
is "$(comm -23 found.txt reviewed.txt)" "" \
	"every place that builds SQL text is a reviewed constant-only builder"
ok "$([ -s found.txt ] && echo 0 || echo 1)" "the scan finds the known builders (it works)"
# the scanner itself: a value formatted into SQL is caught
printf 'static int\nbad(sqlite3 *db, const char *name)\n{\n\tchar sql[256];\n\n\tsnprintf(sql, sizeof(sql), "SELECT id FROM contact WHERE email = '"'"'%%s'"'"'", name);\n\treturn sqlite3_exec(db, sql, NULL, NULL, NULL);\n}\n' >bad.c
is "$(perl "$TOP/tests/sql-builders.pl" bad.c)" "bad.c bad snprintf" \
	"the scan catches a value formatted into SQL"
done_testing
