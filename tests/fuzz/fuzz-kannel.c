/*
 * fuzz-kannel.c - the Kannel callback parser (lib/fetch-kannel.c): a
 * query string or form body given to cn_fetch_kannel() as the receiver
 * gets it (delivery reports and MOs, URL decoding, charsets, times),
 * applied to a store holding two messages and rolled back; and
 * cn_url_decode() with buffers large and small.
 */
#include <string.h>

#include "store.h"

static struct cn_fetch *f;
static struct cn_phone_rules rules;

static void
setup(void)
{
	struct cn_fetch_opts o = {0};
	struct cn_err err;
	struct cn_store *st = fuzz_store(
		"INSERT INTO folder(name, created_at) VALUES('d', 0);"
		"INSERT INTO campaign(uuid, folder_id, name, status,"
		" created_at, sent_at) VALUES('c', 1, 'c', 'sent', 0, 0);"
		"INSERT INTO message(ref, campaign_id, folder_id, phone,"
		" body, encoding, segments, status, created_at, sent_at)"
		" VALUES('r1', 1, 1, '+33600000001', 'x', 'gsm7', 1,"
		" 'sent', 1794990000, 1794990000), ('r2', 1, 1, '+33600000002',"
		" 'x', 'gsm7', 1, 'preparing', 1794990000, NULL);");

	if (cn_phone_rules_init(&rules, "FR", &err) < 0)
		fuzz_fail("rules: %s", err.msg);
	o.phone = &rules;
	o.reply_window_hours = 48;
	o.npai_failures = 3;
	o.source = "sms-fetch";
	if (!(f = cn_fetch_open(st, &o, &err)))
		fuzz_fail("fetch: %s", err.msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *q = (const char *)data;
	struct cn_err err;
	char out[64], *big;

	if (!f)
		setup();
	if (cn_fetch_begin(f, &err) < 0)
		fuzz_fail("begin: %s", err.msg);
	if (cn_fetch_kannel(f, q, size, &err) < 0)
		fuzz_assert(err.code == CN_EDATA, "callback failed with code "
			    "%d: %s", err.code, err.msg);
	cn_fetch_rollback(f);

	/* decoding never writes past cap and never leaves a NUL inside */
	if (cn_url_decode(q, size, out, sizeof(out)) == 0)
		fuzz_assert(strlen(out) <= size && strlen(out) < sizeof(out),
			    "decoded '%s' from %zu bytes", out, size);
	if ((big = malloc(size + 1))) {
		if (cn_url_decode(q, size, big, size + 1) == 0)
			fuzz_assert(strlen(big) <= size, "decoded too much");
		else
			fuzz_assert(memchr(big, '\0', size + 1) != NULL,
				    "a refused decode is not terminated");
		free(big);
	}
	return 0;
}
