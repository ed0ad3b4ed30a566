/*
 * fuzz-couch.c - the CouchDB response parser of carnet-sync
 * (lib/sync.c): a _changes answer with its documents, applied by
 * cn_sync_apply_changes() (internal.h) as a pull batch would, to a store
 * that holds synced items (pulled at setup), pending ones (a list and
 * contacts imported, a template, a blacklist entry: conflicts) and
 * nothing else; rolled back after each run.  The conflict policy and the
 * dry run come from the input's length.
 */
#include <string.h>

#include "internal.h"
#include "store.h"

/* What the store pulled once, at setup: a list, a contact in it, a
 * template, a campaign, a message, a blacklist entry, a device. */
static const char pulled[] =
	"{\"results\":["
	"{\"seq\":1,\"id\":\"list:00000000-0000-7000-8000-000000000001\","
	"\"doc\":{\"_id\":\"list:00000000-0000-7000-8000-000000000001\","
	"\"_rev\":\"1-a\",\"kind\":\"list\",\"edited_at\":1794000000,"
	"\"device\":\"other\",\"folder\":\"default\",\"name\":\"remote\","
	"\"backup\":1,\"fields\":[\"city\"],\"created_at\":1794000000,"
	"\"updated_at\":1794000000}},"
	"{\"seq\":2,\"id\":\"contact:00000000-0000-7000-8000-000000000002\","
	"\"doc\":{\"_id\":\"contact:00000000-0000-7000-8000-000000000002\","
	"\"_rev\":\"1-b\",\"kind\":\"contact\",\"edited_at\":1794000000,"
	"\"device\":\"other\",\"folder\":\"default\",\"email\":\"r@x.org\","
	"\"phone\":\"+33611111111\",\"first_name\":\"Rémi\",\"last_name\":"
	"\"R\",\"attrs\":{\"city\":\"Lyon\"},\"lists\":[{\"uuid\":"
	"\"00000000-0000-7000-8000-000000000001\",\"name\":\"remote\"}]}},"
	"{\"seq\":3,\"id\":\"template:00000000-0000-7000-8000-000000000003\","
	"\"doc\":{\"_id\":\"template:00000000-0000-7000-8000-000000000003\","
	"\"_rev\":\"1-c\",\"kind\":\"template\",\"edited_at\":1794000000,"
	"\"device\":\"other\",\"folder\":\"default\",\"title\":\"t\","
	"\"body\":\"Bonjour {{first_name}}\",\"active\":1,\"scope\":"
	"\"folder\",\"reply_mode\":\"none\",\"users\":[]}},"
	"{\"seq\":4,\"id\":\"campaign:00000000-0000-7000-8000-000000000004\","
	"\"doc\":{\"_id\":\"campaign:00000000-0000-7000-8000-000000000004\","
	"\"_rev\":\"1-d\",\"kind\":\"campaign\",\"edited_at\":1794000000,"
	"\"device\":\"other\",\"folder\":\"default\",\"user\":\"fuzz\","
	"\"name\":\"oct\",\"status\":\"sent\",\"simulated\":0,\"driver\":"
	"\"kannel\",\"created_at\":1794000000,\"sent_at\":1794000000}},"
	"{\"seq\":5,\"id\":\"message:m1\",\"doc\":{\"_id\":\"message:m1\","
	"\"_rev\":\"1-e\",\"kind\":\"message\",\"edited_at\":1794000000,"
	"\"device\":\"other\",\"campaign\":"
	"\"00000000-0000-7000-8000-000000000004\",\"folder\":\"default\","
	"\"phone\":\"+33611111111\",\"body\":\"x\",\"encoding\":\"gsm7\","
	"\"segments\":1,\"status\":\"sent\",\"created_at\":1794000000}},"
	"{\"seq\":6,\"id\":\"blacklist:00000000-0000-7000-8000-000000000006\","
	"\"doc\":{\"_id\":\"blacklist:00000000-0000-7000-8000-000000000006\","
	"\"_rev\":\"1-f\",\"kind\":\"blacklist\",\"edited_at\":1794000000,"
	"\"device\":\"other\",\"address\":\"+33622222222\",\"reason\":"
	"\"stop\",\"source\":\"sms-fetch\"}},"
	"{\"seq\":7,\"id\":\"device:other\",\"doc\":{\"_id\":"
	"\"device:other\",\"_rev\":\"1-g\",\"name\":\"laptop\","
	"\"last_sync\":1794000000}}"
	"],\"last_seq\":7}";

static int
no_item(void *ctx, const struct cn_sync_item *it)
{
	(void)ctx;
	(void)it;
	return 0;
}

static void
setup(void)
{
	static const char csv[] = "email,phone,first_name,city\n"
				  "a@x.org,0612345678,Ana,Paris\n"
				  "b@x.org,,Bob,\n,0698765432,Chloé,Nice\n";
	struct cn_store *st = fuzz_store(NULL);
	struct cn_sync_opts o = {.kinds = CN_SYNC_ALL};
	struct cn_import_opts io = {0};
	struct cn_import_stats is;
	struct cn_template_spec ts;
	struct cn_blacklist_result br;
	struct cn_phone_rules rules;
	struct cn_reader *rd;
	struct cn_err err;
	FILE *fp;

	if (cn_sql_exec(cn_store_db(st), "BEGIN", &err) < 0 ||
	    cn_sync_apply_changes(st, &o, pulled, sizeof(pulled) - 1, NULL,
				  &err) < 0 ||
	    cn_sql_exec(cn_store_db(st), "COMMIT", &err) < 0)
		fuzz_fail("setup pull: %s", err.msg);

	if (cn_phone_rules_init(&rules, "FR", &err) < 0 ||
	    !(fp = fmemopen((void *)csv, sizeof(csv) - 1, "r")) ||
	    !(rd = cn_reader_open(fp, "setup", CN_FMT_CSV, NULL, &err)))
		fuzz_fail("setup import: %s", err.msg);
	io.folder = "default";
	io.user = "fuzz";
	io.list = "clients";
	io.mode = CN_MODE_UPSERT;
	io.phone = &rules;
	if (cn_contacts_import(st, rd, &io, &is, &err) < 0)
		fuzz_fail("setup import: %s", err.msg);
	cn_reader_close(rd);
	fclose(fp);
	cn_phone_rules_free(&rules);

	cn_template_spec_init(&ts);
	ts.title = "relance";
	ts.body = "Bonjour {{first_name|vous}}, {{city|}}";
	ts.folder = "default";
	if (cn_template_add(st, &ts, "fuzz", NULL, &err) < 0)
		fuzz_fail("setup template: %s", err.msg);
	if (cn_blacklist_add(st, "+33633333333", CN_BL_MANUAL, "fuzz", NULL,
			     "fuzz", &br, &err) < 0)
		fuzz_fail("setup blacklist: %s", err.msg);
	/* everything made here is pending, and so are three of the pulled
	 * items (edited here since): the seeds that change them conflict */
	if (cn_sync_status(st, CN_SYNC_ALL, 0, no_item, NULL, &err) < 0 ||
	    cn_sync_mark(st, "list", "00000000-0000-7000-8000-000000000001", 0,
			 &err) < 0 ||
	    cn_sync_mark(st, "contact", "00000000-0000-7000-8000-000000000002",
			 0, &err) < 0 ||
	    cn_sync_mark(st, "template",
			 "00000000-0000-7000-8000-000000000003", 1, &err) < 0)
		fuzz_fail("setup marks: %s", err.msg);
}

/* One pull context for every input, as one for every batch of a run:
 * its statements are prepared once (preparing them for each input took
 * half the time); each input meets the store as setup() left it. */
static struct cn_sync_opts opts;
static struct cn_sync_apply *applier;

static void
applier_close(void)
{
	cn_sync_apply_close(applier);	/* before the store's atexit */
	applier = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_sync_stats stats;
	struct cn_err err;
	sqlite3 *db;
	int rc;

	if (!fuzz_st) {
		setup();
		opts.kinds = CN_SYNC_ALL;
		opts.device_name = "fuzz";
		if (!(applier = cn_sync_apply_open(fuzz_st, &opts, &err)))
			fuzz_fail("apply context: %s", err.msg);
		atexit(applier_close);
	}
	db = cn_store_db(fuzz_st);
	opts.policy = (enum cn_sync_policy)(size & 3);
	opts.dry_run = (size >> 2) % 5 == 0;
	if (cn_sql_exec(db, "BEGIN", &err) < 0)
		fuzz_fail("begin: %s", err.msg);
	rc = cn_sync_apply_run(applier, (const char *)data, size, &stats,
			       &err);
	if (rc < 0)
		fuzz_assert(err.code == CN_EDATA, "apply failed with code %d: "
			    "%s", err.code, err.msg);
	if (rc == 0)
		fuzz_assert(stats.pulled <= stats.docs_received &&
			    stats.pulled_deleted <= stats.pulled,
			    "stats: pulled %llu of %llu received",
			    (unsigned long long)stats.pulled,
			    (unsigned long long)stats.docs_received);
	if (cn_sql_exec(db, "ROLLBACK", &err) < 0)
		fuzz_fail("rollback: %s", err.msg);
	return 0;
}
