/*
 * t-config.c - unit tests of cn_config_load() and cn_mapfile_load():
 * defaults, every key, the environment, errors with line and column,
 * aliases, the secrets rule, map files.  Each test runs in a fresh
 * temporary HOME with the XDG and CARNET variables cleared.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carnet.h"
#include "tap.h"

static char tmp[256];	/* the temporary HOME */
static char cwd0[4096];	/* the directory the test started in */

static const char *
P(const char *rel)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmp, rel);
	return b;
}

/* Writes text to tmp/rel (creating its directory) with mode. */
static const char *
put(const char *rel, const char *text, mode_t mode)
{
	const char *path = P(rel);
	char dir[512], *slash;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	for (char *p = dir + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	mkdir(dir, 0700);
	fp = fopen(path, "w");
	if (!fp) {
		perror(path);
		exit(2);
	}
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* A fresh, empty HOME; every variable the loader reads is reset. */
static void
fresh(void)
{
	static const char *const vars[] = {
		"XDG_CONFIG_HOME", "XDG_DATA_HOME", "CARNET_CONFIG",
		"CARNET_STORE", "CARNET_FOLDER", "CARNET_USER",
		"CARNET_BACKUP_DIR", NULL
	};

	if (chdir(cwd0) < 0)
		exit(2);
	if (tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(tmp, sizeof(tmp), "%s/t-config.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(2);
	}
	setenv("HOME", tmp, 1);
	setenv("USER", "tester", 1);
	for (size_t i = 0; vars[i]; i++)
		unsetenv(vars[i]);
}

/* Loads text written (mode 0600) to tmp/c.yaml. */
static int
load_text(struct cn_config *cfg, const char *text, struct cn_err *err)
{
	return cn_config_load(cfg, put("c.yaml", text, 0600), err);
}

/* Loads text and checks that it fails with want (the file name and a
 * colon are put in front); the message is checked whole. */
static void
fails(const char *text, const char *want, const char *what)
{
	struct cn_config cfg;
	struct cn_err err;
	char full[600];
	int rc;

	snprintf(full, sizeof(full), "%s:%s", P("c.yaml"), want);
	rc = load_text(&cfg, text, &err);
	if (!ok(rc == -1 && err.code == CN_ECONFIG && !strcmp(err.msg, full),
		"%s", what))
		printf("#   rc %d code %d\n#   got  '%s'\n#   want '%s'\n", rc,
		       err.code, err.msg, full);
	if (rc == 0)
		cn_config_free(&cfg);
}

static void
test_defaults(void)
{
	struct cn_config cfg;
	struct cn_err err;
	int rc;

	fresh();
	rc = cn_config_load(&cfg, NULL, &err);
	is_int(rc, 0, "defaults: loads without a file (%s)", err.msg);
	ok(cfg.path == NULL, "defaults: no file read");
	is_str(cfg.store, P(".local/share/carnet/carnet.db"),
	       "defaults: store under ~/.local/share");
	is_str(cfg.backup_dir, P(".local/share/carnet/backups"),
	       "defaults: backups beside the store");
	is_str(cfg.folder, "default", "defaults: folder");
	is_str(cfg.user, "tester", "defaults: user from $USER");
	is_int(cfg.busy_timeout_ms, 60000, "defaults: busy timeout");
	is_str(cfg.phone.country, "FR", "defaults: country FR");
	ok(cfg.phone.noverseas > 0, "defaults: the FR overseas table");
	is_int(cfg.backup_enabled, 1, "defaults: backups on");
	is_int(cfg.backup_retention_days, 30, "defaults: 30 days");
	is_int(cfg.backup_keep_last, 0, "defaults: keep_last 0");
	is_int(cfg.backup_auto_prune, 0, "defaults: no auto prune");
	is_int(cfg.http_timeout_s, 0, "defaults: http timeout 0");
	is_int(cfg.has_secrets, 0, "defaults: no secrets");
	ok(cfg.sms_driver == NULL, "defaults: no sms driver");
	is_str(cfg.sms_stop_separator, "space", "defaults: stop separator");
	is_int(cfg.sms_max_segments, 10, "defaults: max segments");
	is_int(cfg.sms_skip_blacklisted, 1, "defaults: skip blacklisted");
	is_int(cfg.sms_reply_window_hours, 48, "defaults: reply window");
	is_int(cfg.sms_campaign_close_hours, 72, "defaults: close after 72h");
	is_str(cfg.sms_twilio_base_url, "https://api.twilio.com",
	       "defaults: twilio base url");
	is_str(cfg.sms_http_method, "POST", "defaults: http method");
	is_str(cfg.quota_mode, "block", "defaults: quota mode");
	is_int(cfg.sync_enabled, 1, "defaults: sync enabled");
	is_str(cfg.sync_database, "carnet", "defaults: sync database");
	is_str(cfg.sync_kinds, "lists,contacts,blacklists,templates,campaigns",
	       "defaults: every kind syncs");
	is_str(cfg.sync_conflict_policy, "newest", "defaults: newest wins");
	is_int(cfg.sync_delete_max_percent, 50, "defaults: delete guard %%");
	is_int(cfg.sync_delete_max, 1000, "defaults: delete guard count");
	cn_config_free(&cfg);
	ok(cfg.store == NULL && cfg.phone.overseas == NULL,
	   "free: the struct is cleared");
	cn_config_free(&cfg);	/* twice is harmless */

	unsetenv("USER");
	setenv("XDG_DATA_HOME", P("data"), 1);
	rc = cn_config_load(&cfg, NULL, &err);
	is_str(cfg.user, "carnet", "defaults: user 'carnet' without $USER");
	is_str(cfg.store, P("data/carnet/carnet.db"), "XDG_DATA_HOME");
	cn_config_free(&cfg);
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	rc = cn_config_load(&cfg, NULL, &err);
	is_str(cfg.store, P(".local/share/carnet/carnet.db"),
	       "a relative XDG_DATA_HOME is ignored");
	cn_config_free(&cfg);
}

static void
test_find_file(void)
{
	struct cn_config cfg;
	struct cn_err err;
	char want[600];
	int rc;

	fresh();
	put(".config/carnet/config.yaml", "folder: from-home\n", 0600);
	rc = cn_config_load(&cfg, NULL, &err);
	is_str(rc == 0 ? cfg.folder : err.msg, "from-home",
	       "~/.config/carnet/config.yaml is read");
	is_str(cfg.path, P(".config/carnet/config.yaml"), "path is set");
	cn_config_free(&cfg);

	put("xdg/carnet/config.yaml", "folder: from-xdg\n", 0600);
	setenv("XDG_CONFIG_HOME", P("xdg"), 1);
	cn_config_load(&cfg, NULL, &err);
	is_str(cfg.folder, "from-xdg", "XDG_CONFIG_HOME is honoured");
	cn_config_free(&cfg);

	put("env.yaml", "folder: from-env\n", 0600);
	setenv("CARNET_CONFIG", P("env.yaml"), 1);
	cn_config_load(&cfg, NULL, &err);
	is_str(cfg.folder, "from-env", "CARNET_CONFIG beats the XDG file");
	cn_config_free(&cfg);

	put("arg.yaml", "folder: from-arg\n", 0600);
	cn_config_load(&cfg, P("arg.yaml"), &err);
	is_str(cfg.folder, "from-arg", "the path argument beats CARNET_CONFIG");
	cn_config_free(&cfg);

	rc = cn_config_load(&cfg, P("nope.yaml"), &err);
	snprintf(want, sizeof(want),
		 "%s: cannot open: No such file or directory", P("nope.yaml"));
	ok(rc == -1 && err.code == CN_ECONFIG, "a missing named file fails");
	is_str(err.msg, want, "... naming the file and the reason");
	ok(cfg.store == NULL && cfg.folder == NULL, "... and cfg is freed");

	setenv("CARNET_CONFIG", P("gone.yaml"), 1);
	rc = cn_config_load(&cfg, NULL, &err);
	ok(rc == -1 && err.code == CN_ECONFIG && strstr(err.msg, "gone.yaml"),
	   "a missing CARNET_CONFIG file fails");

	unsetenv("CARNET_CONFIG");
	rc = cn_config_load(&cfg, "/dev/null", &err);
	ok(rc == 0 && !strcmp(cfg.folder, "default"),
	   "/dev/null is an empty config");
	if (rc == 0)
		cn_config_free(&cfg);
}

static const char full_yaml[] =
	"# every key\n"
	"store: /srv/carnet/c.db\n"
	"folder: agence-nord\n"
	"user: jk\n"
	"busy_timeout_ms: 1500\n"
	"phone:\n"
	"  default_country: fr\n"
	"  overseas:\n"
	"    \"0690\": \"+590\"\n"
	"    0696: 596\n"
	"    '0694': '594'\n"
	"backup:\n"
	"  enabled: no\n"
	"  dir: /srv/backups\n"
	"  retention_days: 90\n"
	"  keep_last: 5\n"
	"  auto_prune: On\n"
	"sms:\n"
	"  driver: Kannel\n"
	"  http_timeout: 30\n"
	"  sender: ACME\n"
	"  stop_mention: STOP au 36180\n"
	"  stop_separator: newline\n"
	"  max_segments: 6\n"
	"  warn_threshold: 500\n"
	"  skip_blacklisted: false\n"
	"  npai_failures: 2\n"
	"  reply_window_hours: 24\n"
	"  campaign_close_hours: 96\n"
	"  kannel:\n"
	"    url: http://127.0.0.1:13013/cgi-bin/sendsms\n"
	"    username: carnet\n"
	"    password_file: /etc/carnet/kannel.pw\n"
	"    dlr_url: http://127.0.0.1:13080/dlr?t=%d\n"
	"  twilio:\n"
	"    base_url: https://twilio.test\n"
	"    account_sid: AC123\n"
	"    auth_token_file: /etc/carnet/twilio.token\n"
	"  http:\n"
	"    url: https://gw.test/send\n"
	"    method: put\n"
	"    headers:\n"
	"      Content-Type: application/json\n"
	"      X-Trace: \"1\"\n"
	"    body: '{\"to\":\"{{to}}\"}'\n"
	"    success_regex: '\"ok\": *true'\n"
	"    id_path: result.id\n"
	"    id_regex: 'id=([0-9]+)'\n"
	"  callback:\n"
	"    listen: 0.0.0.0:9000\n"
	"    token_file: /etc/carnet/cb.token\n"
	"quota:\n"
	"  mode: warn\n"
	"sync:\n"
	"  enabled: off\n"
	"  url: https://couch.test:5984\n"
	"  database: acme\n"
	"  username: acme\n"
	"  password_file: /etc/carnet/sync.pw\n"
	"  interval: 120\n"
	"  kinds: [lists, Templates]\n"
	"  conflict_policy: ask\n"
	"  delete_max_percent: 10\n"
	"  delete_max: 200\n"
	"  device: laptop\n";

static void
test_every_key(void)
{
	struct cn_config cfg;
	struct cn_err err;
	int rc;

	fresh();
	/* no inline secret: 0644 is fine */
	rc = cn_config_load(&cfg, put("c.yaml", full_yaml, 0644), &err);
	if (!ok(rc == 0, "every key: loads"))
		printf("#   %s\n", err.msg);
	if (rc != 0)
		return;
	is_str(cfg.store, "/srv/carnet/c.db", "store");
	is_str(cfg.folder, "agence-nord", "folder");
	is_str(cfg.user, "jk", "user");
	is_int(cfg.busy_timeout_ms, 1500, "busy_timeout_ms");
	is_str(cfg.phone.country, "FR", "phone.default_country (upper-cased)");
	is_int(cfg.phone.noverseas, 3, "phone.overseas replaces the table");
	ok(cfg.phone.noverseas == 3 &&
	   !strcmp(cfg.phone.overseas[0].prefix, "0690") &&
	   !strcmp(cfg.phone.overseas[0].code, "590") &&
	   !strcmp(cfg.phone.overseas[1].prefix, "0696") &&
	   !strcmp(cfg.phone.overseas[1].code, "596") &&
	   !strcmp(cfg.phone.overseas[2].prefix, "0694") &&
	   !strcmp(cfg.phone.overseas[2].code, "594"),
	   "phone.overseas: \"+590\", 596 and '594' in file order");
	is_int(cfg.backup_enabled, 0, "backup.enabled: no");
	is_str(cfg.backup_dir, "/srv/backups", "backup.dir");
	is_int(cfg.backup_retention_days, 90, "backup.retention_days");
	is_int(cfg.backup_keep_last, 5, "backup.keep_last");
	is_int(cfg.backup_auto_prune, 1, "backup.auto_prune: On");
	is_str(cfg.sms_driver, "kannel", "sms.driver (case-folded)");
	is_int(cfg.http_timeout_s, 30, "sms.http_timeout");
	is_str(cfg.sms_sender, "ACME", "sms.sender");
	is_str(cfg.sms_stop_mention, "STOP au 36180", "sms.stop_mention");
	is_str(cfg.sms_stop_separator, "newline", "sms.stop_separator");
	is_int(cfg.sms_max_segments, 6, "sms.max_segments");
	is_int(cfg.sms_warn_threshold, 500, "sms.warn_threshold");
	is_int(cfg.sms_skip_blacklisted, 0, "sms.skip_blacklisted");
	is_int(cfg.sms_npai_failures, 2, "sms.npai_failures");
	is_int(cfg.sms_reply_window_hours, 24, "sms.reply_window_hours");
	is_int(cfg.sms_campaign_close_hours, 96, "sms.campaign_close_hours");
	is_str(cfg.sms_kannel_url, "http://127.0.0.1:13013/cgi-bin/sendsms",
	       "sms.kannel.url");
	is_str(cfg.sms_kannel_username, "carnet", "sms.kannel.username");
	is_str(cfg.sms_kannel_password_file, "/etc/carnet/kannel.pw",
	       "sms.kannel.password_file");
	is_str(cfg.sms_kannel_dlr_url, "http://127.0.0.1:13080/dlr?t=%d",
	       "sms.kannel.dlr_url");
	is_str(cfg.sms_twilio_base_url, "https://twilio.test",
	       "sms.twilio.base_url");
	is_str(cfg.sms_twilio_account_sid, "AC123", "sms.twilio.account_sid");
	is_str(cfg.sms_twilio_auth_token_file, "/etc/carnet/twilio.token",
	       "sms.twilio.auth_token_file");
	is_str(cfg.sms_http_url, "https://gw.test/send", "sms.http.url");
	is_str(cfg.sms_http_method, "PUT", "sms.http.method (upper-cased)");
	ok(cfg.sms_http_nheaders == 2 &&
	   !strcmp(cfg.sms_http_headers[0], "Content-Type: application/json") &&
	   !strcmp(cfg.sms_http_headers[1], "X-Trace: 1"),
	   "sms.http.headers as 'Name: value'");
	is_str(cfg.sms_http_body, "{\"to\":\"{{to}}\"}", "sms.http.body");
	is_str(cfg.sms_http_success_regex, "\"ok\": *true",
	       "sms.http.success_regex");
	is_str(cfg.sms_http_id_path, "result.id", "sms.http.id_path");
	is_str(cfg.sms_http_id_regex, "id=([0-9]+)", "sms.http.id_regex");
	is_str(cfg.sms_callback_listen, "0.0.0.0:9000", "sms.callback.listen");
	is_str(cfg.sms_callback_token_file, "/etc/carnet/cb.token",
	       "sms.callback.token_file");
	is_str(cfg.quota_mode, "warn", "quota.mode");
	is_int(cfg.sync_enabled, 0, "sync.enabled: off");
	is_str(cfg.sync_url, "https://couch.test:5984", "sync.url");
	is_str(cfg.sync_database, "acme", "sync.database");
	is_str(cfg.sync_username, "acme", "sync.username");
	is_str(cfg.sync_password_file, "/etc/carnet/sync.pw",
	       "sync.password_file");
	is_int(cfg.sync_interval_s, 120, "sync.interval");
	is_str(cfg.sync_kinds, "lists,templates", "sync.kinds");
	is_str(cfg.sync_conflict_policy, "ask", "sync.conflict_policy");
	is_int(cfg.sync_delete_max_percent, 10, "sync.delete_max_percent");
	is_int(cfg.sync_delete_max, 200, "sync.delete_max");
	is_str(cfg.sync_device, "laptop", "sync.device");
	is_int(cfg.has_secrets, 0, "*_file keys are not secrets");
	cn_config_free(&cfg);
}

static void
test_values(void)
{
	struct cn_config cfg;
	struct cn_err err;
	int rc;

	fresh();
	rc = load_text(&cfg, "folder:\nphone:\n  overseas: {}\n"
			     "  default_country: ~\nsync:\n  kinds: []\n",
		       &err);
	is_int(rc, 0, "empty values load (%s)", err.msg);
	is_str(cfg.folder, "default", "an empty value keeps the default");
	is_str(cfg.phone.country, "FR", "a null country keeps FR");
	is_int(cfg.phone.noverseas, 0, "overseas: {} empties the table");
	is_str(cfg.sync_kinds, "", "kinds: [] syncs nothing");
	cn_config_free(&cfg);

	rc = load_text(&cfg, "phone: {default_country: BE}\n", &err);
	ok(rc == 0 && !strcmp(cfg.phone.country, "BE") &&
	   cfg.phone.noverseas == 0, "another country, without overseas");
	if (rc == 0)
		cn_config_free(&cfg);

	rc = load_text(&cfg, "backup: {retention_days: 0, keep_last: 0}\n",
		       &err);
	ok(rc == 0 && cfg.backup_retention_days == 0, "flow mappings load");
	if (rc == 0)
		cn_config_free(&cfg);
}

static void
test_paths_and_env(void)
{
	struct cn_config cfg;
	struct cn_err err;
	int rc;

	fresh();
	put("etc/c.yaml", "store: data/c.db\n"
			  "sms:\n  kannel:\n    password_file: kannel.pw\n",
	    0600);
	rc = cn_config_load(&cfg, P("etc/c.yaml"), &err);
	is_str(rc == 0 ? cfg.store : err.msg, P("etc/data/c.db"),
	       "a relative store is relative to the file's directory");
	is_str(cfg.backup_dir, P("etc/data/backups"),
	       "... and the default backup dir follows it");
	is_str(cfg.sms_kannel_password_file, P("etc/kannel.pw"),
	       "a relative *_file is relative to the file's directory");
	cn_config_free(&cfg);

	if (chdir(tmp) < 0)
		exit(2);
	rc = cn_config_load(&cfg, "etc/c.yaml", &err);
	is_str(rc == 0 ? cfg.store : err.msg, P("etc/data/c.db"),
	       "a relative config path gives an absolute store");
	cn_config_free(&cfg);
	if (chdir(cwd0) < 0)
		exit(2);

	rc = load_text(&cfg, "store: ~/s/c.db\nbackup:\n  dir: ~/b\n", &err);
	is_str(rc == 0 ? cfg.store : err.msg, P("s/c.db"), "'~/' in store");
	is_str(cfg.backup_dir, P("b"), "'~/' in backup.dir");
	cn_config_free(&cfg);

	rc = load_text(&cfg, "store: /f/c.db\nfolder: f\nuser: u\n"
			     "backup: {dir: /f/b}\n", &err);
	cn_config_free(&cfg);
	setenv("CARNET_STORE", "~/env.db", 1);
	setenv("CARNET_FOLDER", "env-folder", 1);
	setenv("CARNET_USER", "env-user", 1);
	setenv("CARNET_BACKUP_DIR", "/env/backups", 1);
	rc = load_text(&cfg, "store: /f/c.db\nfolder: f\nuser: u\n"
			     "backup: {dir: /f/b}\n", &err);
	is_str(rc == 0 ? cfg.store : err.msg, P("env.db"),
	       "CARNET_STORE beats the file (and '~/' expands)");
	is_str(cfg.folder, "env-folder", "CARNET_FOLDER beats the file");
	is_str(cfg.user, "env-user", "CARNET_USER beats the file");
	is_str(cfg.backup_dir, "/env/backups",
	       "CARNET_BACKUP_DIR beats the file");
	cn_config_free(&cfg);
	unsetenv("CARNET_BACKUP_DIR");
	setenv("CARNET_STORE", "/x/y.db", 1);
	rc = cn_config_load(&cfg, NULL, &err);
	is_str(cfg.backup_dir, "/x/backups",
	       "the default backup dir follows CARNET_STORE");
	cn_config_free(&cfg);
	setenv("CARNET_STORE", "", 1);
	rc = cn_config_load(&cfg, NULL, &err);
	is_str(cfg.store, P(".local/share/carnet/carnet.db"),
	       "an empty CARNET_STORE is ignored");
	cn_config_free(&cfg);
}

static void
test_errors(void)
{
	fresh();
	fails("folder: x\ncolour: blue\n", "2:1: unknown key 'colour'",
	      "unknown key: line and column");
	fails("sms:\n  driver: kannel\n  colour: blue\n",
	      "3:3: unknown key 'sms.colour'", "unknown nested key: dotted");
	fails("backup.dir: /x\n", "1:1: unknown key 'backup.dir'",
	      "a dotted key is not a short form");
	fails("backup:\n  retention_days: abc\n",
	      "2:19: backup.retention_days: expected an integer, got 'abc'",
	      "wrong type: integer");
	fails("backup:\n  retention_days: 12x\n",
	      "2:19: backup.retention_days: expected an integer, got '12x'",
	      "trailing junk after an integer");
	fails("busy_timeout_ms: -1\n",
	      "1:18: busy_timeout_ms: -1 is out of range (0 to 86400000)",
	      "an integer out of range");
	fails("sms:\n  max_segments: 99999999999999999999\n",
	      "2:17: sms.max_segments: expected an integer, got "
	      "'99999999999999999999'", "an integer overflow");
	fails("backup:\n  enabled: maybe\n",
	      "2:12: backup.enabled: expected a boolean (true or false), "
	      "got 'maybe'", "wrong type: boolean");
	fails("sms:\n  driver: smoke-signals\n",
	      "2:11: sms.driver: expected one of kannel, twilio, http, "
	      "simulate, got 'smoke-signals'", "an unknown driver");
	fails("quota: {mode: maybe}\n",
	      "1:15: quota.mode: expected one of block, warn, got 'maybe'",
	      "an unknown quota mode");
	fails("store: [a, b]\n",
	      "1:8: store: expected a string, got a sequence",
	      "a sequence where a string goes");
	fails("sms: yes\n", "1:6: sms: expected a mapping, got a scalar",
	      "a scalar where a section goes");
	fails("sync:\n  kinds: lists\n",
	      "2:10: sync.kinds: expected a sequence, got a scalar",
	      "kinds must be a sequence");
	fails("sync:\n  kinds: [lists, cats]\n",
	      "2:18: sync.kinds: expected one of lists, contacts, blacklists, "
	      "templates, campaigns, got 'cats'", "an unknown kind");
	fails("folder: a\nfolder: b\n", "2:1: duplicate key 'folder'",
	      "a duplicate key");
	fails("phone:\n  default_country: XX\n",
	      "2:20: phone.default_country: unknown country 'XX'",
	      "an unknown country");
	fails("phone:\n  overseas:\n    \"0690\": \"+59x\"\n",
	      "3:13: phone.overseas: expected a calling code (1 to 3 digits) "
	      "for '0690', got '+59x'", "a bad calling code");
	fails("phone:\n  overseas:\n    06-90: 590\n",
	      "3:5: phone.overseas: expected a national prefix of digits, "
	      "got '06-90'", "a bad overseas prefix");
	fails("sms:\n  sender: ACME-INTERIM-NORD\n",
	      "2:11: sms.sender: expected a phone number or at most 11 "
	      "letters and digits, got 'ACME-INTERIM-NORD'",
	      "a sender name too long");
	fails("sms:\n  http:\n    success_regex: 'a(b'\n",
	      "3:20: sms.http.success_regex: invalid regular expression: "
	      "Unmatched ( or \\(", "an invalid regex");
	fails("sync:\n  url: ftp://couch\n",
	      "2:8: sync.url: expected an http:// or https:// URL",
	      "a URL of the wrong scheme");
	fails("- a\n- b\n",
	      "1:1: expected a mapping of settings, got a sequence",
	      "a document that is not a mapping");
	fails("folder: a\n---\nfolder: b\n", "2:1: expected a single document",
	      "two documents");
}

static void
test_yaml(void)
{
	fresh();
	fails("folder: a\n- b\n",
	      "2:1: did not find expected key (while parsing a block mapping "
	      "at 1:1)", "a YAML syntax error: line and column");
	fails("sync:\n  kinds: [lists, contacts\n",
	      "3:1: did not find expected ',' or ']' (while parsing a flow "
	      "sequence at 2:10)", "an unclosed sequence: line and column");
	fails("folder: a\n  user: b\n",
	      "2:7: mapping values are not allowed in this context",
	      "bad indentation: line and column");
	fails("folder: \"a\n", "2:1: found unexpected end of stream (while "
	      "scanning a quoted scalar at 1:9)", "an unterminated string");
	fails("folder: a\nuser: b\xff\n",
	      "2:8: invalid leading UTF-8 octet",
	      "invalid UTF-8: line and column");
	fails("folder: &f agence\nuser: *f\n",
	      "2:7: aliases are not allowed (*f)", "an alias is refused");
	fails("a: &a [x, x]\nb: &b [*a, *a]\n",
	      "1:1: unknown key 'a'", "an unknown anchored key fails first");
	fails("sms:\n  http:\n    headers: {X: &h v, Y: *h}\n",
	      "3:27: aliases are not allowed (*h)", "an alias deep down");
}

static void
test_secrets(void)
{
	struct cn_config cfg;
	struct cn_err err;
	const char *path;
	char want[800];
	int rc;
	static const char text[] =
		"sync:\n  url: https://couch.test\n"
		"  password: hunter2-s3cret\n";

	fresh();
	path = put("c.yaml", text, 0644);
	rc = cn_config_load(&cfg, path, &err);
	snprintf(want, sizeof(want),
		 "%s: holds secrets and is readable by others (mode 0644); "
		 "run chmod 600 %s", path, path);
	ok(rc == -1 && err.code == CN_ECONFIG, "secrets + 0644: refused");
	is_str(err.msg, want, "... with the mode and the fix");
	ok(!strstr(err.msg, "hunter2"), "... without the secret");

	chmod(path, 0640);
	rc = cn_config_load(&cfg, path, &err);
	ok(rc == -1 && strstr(err.msg, "(mode 0640)"),
	   "secrets + 0640: refused too");

	chmod(path, 0600);
	rc = cn_config_load(&cfg, path, &err);
	is_int(rc, 0, "secrets + 0600: accepted");
	is_int(cfg.has_secrets, 1, "... has_secrets is set");
	is_str(cfg.sync_password, "hunter2-s3cret", "... the password kept");
	cn_config_free(&cfg);

	static const char *const others[] = {
		"sms:\n  kannel:\n    password: pw\n",
		"sms:\n  twilio:\n    auth_token: tok\n",
		"sms:\n  callback:\n    token: tok\n",
		"sms:\n  http:\n    headers:\n      Authorization: Bearer x\n",
		"sms:\n  http:\n    headers:\n      X-Api-Key: k\n",
		"sync:\n  url: https://admin:pw@couch.test/\n",
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		path = put("c.yaml", others[i], 0604);
		rc = cn_config_load(&cfg, path, &err);
		ok(rc == -1 && strstr(err.msg, "holds secrets"),
		   "secret #%zu in a 0604 file: refused", i);
	}

	fails("sync:\n  password: {a: b}\n",
	      "2:13: sync.password: expected a string, got a mapping",
	      "a secret of the wrong type");
	fails("sync:\n  password: s3cret\n  url: https://u:s3cret@h/x y\n"
	      "  url: https://u:s3cret@h/\n",
	      "4:3: duplicate key 'sync.url'", "errors do not quote URLs");
	fails("sync:\n  url: htps://u:s3cret@h/\n",
	      "2:8: sync.url: expected an http:// or https:// URL",
	      "a bad URL with a password is not quoted");
	fails("sms:\n  http:\n    headers:\n      Authorization: \"a\\nb\"\n",
	      "4:22: sms.http.headers: the value of 'Authorization' holds a "
	      "line break or a NUL byte", "a header value is never quoted");
}

static void
test_mapfile(void)
{
	struct cn_buf map;
	struct cn_err err;
	char want[600];
	int rc;

	fresh();
	cn_buf_init(&map, 0);
	rc = cn_mapfile_load(put("m.yaml", "Mobile: phone\nE-mail: email\n"
					   "\"a,b=c\\\\d\": x\n", 0644),
			     &map, &err);
	is_int(rc, 0, "mapfile: loads (%s)", err.msg);
	is_str(map.ptr, "Mobile=phone,E-mail=email,a\\,b\\=c\\\\d=x",
	       "mapfile: pairs, with ',' '=' '\\' escaped");

	cn_buf_reset(&map);
	cn_buf_adds(&map, "Nom=last_name");
	rc = cn_mapfile_load(put("m.yaml", "Prenom: first_name\n", 0644), &map,
			     &err);
	is_str(map.ptr, "Nom=last_name,Prenom=first_name",
	       "mapfile: appends after --map pairs");

	rc = cn_mapfile_load(put("m.yaml", "- a\n- b\n", 0644), &map, &err);
	snprintf(want, sizeof(want),
		 "%s: expected a mapping of source column to field",
		 P("m.yaml:1:1"));
	ok(rc == -1 && err.code == CN_EUSAGE, "mapfile: a sequence fails");
	is_str(err.msg, want, "... with line and column");
	is_str(map.ptr, "Nom=last_name,Prenom=first_name",
	       "... and the map is unchanged");

	rc = cn_mapfile_load(put("m.yaml", "", 0644), &map, &err);
	ok(rc == -1 && err.code == CN_EUSAGE && strstr(err.msg, ":1:1: "),
	   "mapfile: an empty file fails");

	rc = cn_mapfile_load(put("m.yaml", "A: a\nB: {c: d}\n", 0644), &map,
			     &err);
	snprintf(want, sizeof(want),
		 "%s: expected a field name for 'B', got a mapping",
		 P("m.yaml:2:4"));
	ok(rc == -1 && err.code == CN_EUSAGE, "mapfile: a nested value fails");
	is_str(err.msg, want, "... naming the column");
	is_str(map.ptr, "Nom=last_name,Prenom=first_name",
	       "... and what was appended is taken back");

	rc = cn_mapfile_load(put("m.yaml", "A: a\nA: b\n", 0644), &map, &err);
	ok(rc == -1 && strstr(err.msg, ":2:1: duplicate column 'A'"),
	   "mapfile: a duplicate column fails");
	rc = cn_mapfile_load(put("m.yaml", "A: &x a\nB: *x\n", 0644), &map,
			     &err);
	ok(rc == -1 && strstr(err.msg, ":2:4: aliases are not allowed"),
	   "mapfile: aliases are refused");
	rc = cn_mapfile_load(put("m.yaml", "A: a\n- b\n", 0644), &map, &err);
	ok(rc == -1 && err.code == CN_EUSAGE && strstr(err.msg, "m.yaml:2:1:"),
	   "mapfile: a syntax error names line and column");
	rc = cn_mapfile_load(P("missing.yaml"), &map, &err);
	snprintf(want, sizeof(want),
		 "%s: cannot open: No such file or directory",
		 P("missing.yaml"));
	ok(rc == -1 && err.code == CN_ENOINPUT, "mapfile: missing: no input");
	is_str(err.msg, want, "... naming the file");
	cn_buf_free(&map);
}

/* Reads the file at path (relative to the top of the tree) whole. */
static char *
slurp_tree(const char *rel)
{
	char path[4200], *text = NULL;
	size_t cap = 0;
	FILE *fp;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", cwd0, rel);
	fp = fopen(path, "r");
	if (!fp)
		return NULL;
	n = getdelim(&text, &cap, '\0', fp);
	fclose(fp);
	if (n < 0) {
		free(text);
		return NULL;
	}
	return text;
}

#define LEAF_KEYS 54	/* the settings carnet.yaml(5) lists */

/*
 * config.example.yaml loads as it is (every setting commented out), and
 * again with every "#key: value" line uncommented; each of those keys is
 * described in carnet.yaml(5).
 */
static void
test_example(void)
{
	struct cn_config cfg, def;
	struct cn_err err;
	char *ex = slurp_tree("config.example.yaml");
	char *man = slurp_tree("man/carnet.yaml.5");
	char sect[4][64] = {{0}}, dotted[256], needle[300], *line, *save;
	struct cn_buf on;
	int rc, nkeys = 0, undocumented = 0;

	fresh();
	if (!ok(ex && man, "config.example.yaml and carnet.yaml.5 are found "
			   "(run from the top of the tree)")) {
		free(ex);
		free(man);
		return;
	}
	rc = cn_config_load(&cfg, put("ex.yaml", ex, 0644), &err);
	if (!ok(rc == 0, "the example loads as it is"))
		printf("#   %s\n", err.msg);
	cn_config_load(&def, NULL, &err);
	if (rc == 0) {
		is_str(cfg.store, def.store, "... and changes nothing");
		cn_config_free(&cfg);
	}
	cn_config_free(&def);

	cn_buf_init(&on, 0);
	for (line = strtok_r(ex, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t ind = strspn(line, " "), klen;
		const char *k = line + ind;

		if (k[0] == '#' && k[1] >= 'a' && k[1] <= 'z' &&
		    (klen = strspn(k + 1, "abcdefghijklmnopqrstuvwxyz_")) &&
		    k[1 + klen] == ':') {
			/* "#key: value": a setting, named by its sections */
			dotted[0] = '\0';
			for (size_t l = 0; l < ind / 2 && l < 4; l++)
				snprintf(dotted + strlen(dotted),
					 sizeof(dotted) - strlen(dotted),
					 "%s.", sect[l]);
			snprintf(dotted + strlen(dotted),
				 sizeof(dotted) - strlen(dotted), "%.*s",
				 (int)klen, k + 1);
			snprintf(needle, sizeof(needle), ".It Ic %s ", dotted);
			nkeys++;
			if (!strstr(man, needle)) {
				undocumented++;
				printf("# %s is not in carnet.yaml.5\n", dotted);
			}
			cn_buf_add(&on, line, ind);
			cn_buf_adds(&on, k + 1);
		} else {
			if (k[0] && k[0] != '#' && ind / 2 < 4)
				snprintf(sect[ind / 2], sizeof(sect[0]), "%.*s",
					 (int)strcspn(k, ":"), k);
			cn_buf_adds(&on, line);
		}
		cn_buf_addc(&on, '\n');
	}
	is_int(nkeys, LEAF_KEYS, "the example shows every setting");
	is_int(undocumented, 0, "carnet.yaml.5 describes each of them");
	rc = cn_config_load(&cfg, put("ex.yaml", on.ptr, 0600), &err);
	if (!ok(rc == 0, "the example loads with every setting uncommented"))
		printf("#   %s\n", err.msg);
	if (rc == 0) {
		is_int(cfg.has_secrets, 1, "... inline secrets included");
		cn_config_free(&cfg);
	}
	cn_buf_free(&on);
	free(ex);
	free(man);
}

int
main(void)
{
	if (!getcwd(cwd0, sizeof(cwd0)))
		return 2;
	test_defaults();
	test_find_file();
	test_every_key();
	test_values();
	test_paths_and_env();
	test_errors();
	test_yaml();
	test_secrets();
	test_mapfile();
	test_example();
	if (chdir(cwd0) < 0)
		return 2;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
