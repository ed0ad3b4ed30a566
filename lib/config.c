/*
 * config.c - the configuration file, carnet.yaml(5), and field map files,
 * both read with libyaml's event API.
 *
 * Every key the tools know is listed once, in the keys[] table below: its
 * dotted name, its type, where it goes in struct cn_config, its range and
 * its default.  Loading walks the YAML events against that table, so an
 * unknown key, a wrong type or an alias is refused where it is met, with
 * the file, line and column.  Aliases are refused outright (no "billion
 * laughs"); values of secret keys never reach an error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "carnet.h"

#define CONFIG_MAX_SIZE ((size_t)1 << 20)	/* config and map files */
#define QUOTE_MAX 60	/* bytes of a bad value quoted in a message */

/* ---------------------------------------------------------------- keys */

enum ktype {
	K_SECTION,	/* a mapping of further keys */
	K_STR,		/* a string */
	K_PATH,		/* a path: "~/" expanded, relative to the file */
	K_URL,		/* an http:// or https:// URL */
	K_INT,		/* a decimal integer in [min, max] */
	K_BOOL,		/* true/false/yes/no/on/off */
	K_ENUM,		/* one of values[] (case-insensitive) */
	K_SENDER,	/* a phone number or up to 11 letters and digits */
	K_REGEX,	/* a POSIX extended regular expression */
	K_COUNTRY,	/* phone.default_country */
	K_OVERSEAS,	/* phone.overseas: mapping prefix -> calling code */
	K_HEADERS,	/* sms.http.headers: mapping name -> value */
	K_KINDS,	/* sync.kinds: a sequence of kinds */
};

struct key {
	const char *name;	/* dotted name, as in carnet.yaml(5) */
	enum ktype type;
	size_t off;		/* offset of the field in struct cn_config */
	long min, max;		/* K_INT */
	long idef;		/* K_INT, K_BOOL: the default */
	const char *sdef;	/* strings: the default, or NULL */
	const char *const *values;	/* K_ENUM, K_KINDS: NULL-terminated */
};

static const char *const drivers[] = {
	"kannel", "twilio", "http", "simulate", NULL
};
static const char *const separators[] = {"space", "newline", NULL};
static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", NULL};
static const char *const quota_modes[] = {"block", "warn", NULL};
static const char *const policies[] = {
	"newest", "local", "remote", "ask", NULL
};
static const char *const kinds[] = {
	"lists", "contacts", "blacklists", "templates", "campaigns", NULL
};

#define F(field) offsetof(struct cn_config, field)
#define SECTION(n) {.name = n, .type = K_SECTION}
#define STR(n, t, field, d) {.name = n, .type = t, .off = F(field), .sdef = d}
#define INT(n, field, lo, hi, d)                                              \
	{.name = n, .type = K_INT, .off = F(field), .min = lo, .max = hi,     \
	 .idef = d}
#define BOOL(n, field, d)                                                     \
	{.name = n, .type = K_BOOL, .off = F(field), .idef = d}
#define ENUM(n, field, v, d)                                                  \
	{.name = n, .type = K_ENUM, .off = F(field), .values = v, .sdef = d}

/*
 * store, folder, user and backup.dir get their defaults in
 * fill_defaults(), since they depend on the environment and on each other.
 */
static const struct key keys[] = {
	STR("store", K_PATH, store, NULL),
	STR("folder", K_STR, folder, NULL),
	STR("user", K_STR, user, NULL),
	INT("busy_timeout_ms", busy_timeout_ms, 0, 86400000, 60000),

	SECTION("phone"),
	{.name = "phone.default_country", .type = K_COUNTRY},
	{.name = "phone.overseas", .type = K_OVERSEAS},

	SECTION("backup"),
	BOOL("backup.enabled", backup_enabled, 1),
	STR("backup.dir", K_PATH, backup_dir, NULL),
	INT("backup.retention_days", backup_retention_days, 0, 36500, 30),
	INT("backup.keep_last", backup_keep_last, 0, 1000000, 0),
	BOOL("backup.auto_prune", backup_auto_prune, 0),

	SECTION("sms"),
	ENUM("sms.driver", sms_driver, drivers, NULL),
	INT("sms.http_timeout", http_timeout_s, 0, 3600, 0),
	STR("sms.sender", K_SENDER, sms_sender, NULL),
	STR("sms.stop_mention", K_STR, sms_stop_mention, NULL),
	ENUM("sms.stop_separator", sms_stop_separator, separators, "space"),
	INT("sms.max_segments", sms_max_segments, 1, 255, 10),
	INT("sms.warn_threshold", sms_warn_threshold, 0, 1000000000, 0),
	BOOL("sms.skip_blacklisted", sms_skip_blacklisted, 1),
	INT("sms.npai_failures", sms_npai_failures, 0, 1000, 3),
	INT("sms.reply_window_hours", sms_reply_window_hours, 1, 8760, 48),
	INT("sms.campaign_close_hours", sms_campaign_close_hours, 1, 8760, 72),

	SECTION("sms.kannel"),
	STR("sms.kannel.url", K_URL, sms_kannel_url, NULL),
	STR("sms.kannel.username", K_STR, sms_kannel_username, NULL),
	STR("sms.kannel.password", K_STR, sms_kannel_password, NULL),
	STR("sms.kannel.password_file", K_PATH, sms_kannel_password_file,
	    NULL),
	STR("sms.kannel.dlr_url", K_URL, sms_kannel_dlr_url, NULL),

	SECTION("sms.twilio"),
	STR("sms.twilio.base_url", K_URL, sms_twilio_base_url,
	    "https://api.twilio.com"),
	STR("sms.twilio.account_sid", K_STR, sms_twilio_account_sid, NULL),
	STR("sms.twilio.auth_token", K_STR, sms_twilio_auth_token, NULL),
	STR("sms.twilio.auth_token_file", K_PATH, sms_twilio_auth_token_file,
	    NULL),

	SECTION("sms.http"),
	STR("sms.http.url", K_URL, sms_http_url, NULL),
	ENUM("sms.http.method", sms_http_method, methods, "POST"),
	{.name = "sms.http.headers", .type = K_HEADERS},
	STR("sms.http.body", K_STR, sms_http_body, NULL),
	STR("sms.http.success_regex", K_REGEX, sms_http_success_regex, NULL),
	STR("sms.http.id_path", K_STR, sms_http_id_path, NULL),
	STR("sms.http.id_regex", K_REGEX, sms_http_id_regex, NULL),

	SECTION("sms.callback"),
	STR("sms.callback.listen", K_STR, sms_callback_listen,
	    "127.0.0.1:13080"),
	STR("sms.callback.token", K_STR, sms_callback_token, NULL),
	STR("sms.callback.token_file", K_PATH, sms_callback_token_file, NULL),

	SECTION("quota"),
	ENUM("quota.mode", quota_mode, quota_modes, "block"),

	SECTION("sync"),
	BOOL("sync.enabled", sync_enabled, 1),
	STR("sync.url", K_URL, sync_url, NULL),
	STR("sync.database", K_STR, sync_database, "carnet"),
	STR("sync.username", K_STR, sync_username, NULL),
	STR("sync.password", K_STR, sync_password, NULL),
	STR("sync.password_file", K_PATH, sync_password_file, NULL),
	INT("sync.interval", sync_interval_s, 1, 86400, 300),
	{.name = "sync.kinds", .type = K_KINDS, .off = F(sync_kinds),
	 .values = kinds,
	 .sdef = "lists,contacts,blacklists,templates,campaigns"},
	ENUM("sync.conflict_policy", sync_conflict_policy, policies, "newest"),
	INT("sync.delete_max_percent", sync_delete_max_percent, 0, 100, 50),
	INT("sync.delete_max", sync_delete_max, 0, 1000000000, 1000),
	STR("sync.device", K_STR, sync_device, NULL),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int
key_has_string(const struct key *k)
{
	switch (k->type) {
	case K_STR: case K_PATH: case K_URL: case K_ENUM: case K_SENDER:
	case K_REGEX: case K_KINDS:
		return 1;
	default:
		return 0;
	}
}

static char **
key_str(struct cn_config *cfg, const struct key *k)
{
	return (char **)((char *)cfg + k->off);
}

static long *
key_long(struct cn_config *cfg, const struct key *k)
{
	return (long *)((char *)cfg + k->off);
}

static int *
key_int(struct cn_config *cfg, const struct key *k)
{
	return (int *)((char *)cfg + k->off);
}

/* A key whose last component names a secret held inline in the file. */
static int
key_is_secret(const struct key *k)
{
	static const char *const names[] = {
		"password", "token", "auth_token", "secret", "api_key", NULL
	};
	const char *last = strrchr(k->name, '.');

	last = last ? last + 1 : k->name;
	for (size_t i = 0; names[i]; i++)
		if (strcmp(last, names[i]) == 0)
			return 1;
	return 0;
}

/* An HTTP header that carries credentials. */
static int
header_is_secret(const char *name)
{
	static const char *const parts[] = {
		"auth", "token", "secret", "key", "password", "cookie", NULL
	};

	for (size_t i = 0; parts[i]; i++)
		if (strcasestr(name, parts[i]))
			return 1;
	return 0;
}

/* Frees a string that may hold a secret, wiping it first. */
static void
free_wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---------------------------------------------------------------- paths */

/* The home directory: $HOME, else the password database; NULL if none. */
static const char *
home_dir(char *buf, size_t cap)
{
	const char *h = getenv("HOME");
	struct passwd pw, *res = NULL;

	if (h && *h)
		return h;
	if (getpwuid_r(getuid(), &pw, buf, cap, &res) == 0 && res &&
	    res->pw_dir && *res->pw_dir)
		return res->pw_dir;
	return NULL;
}

/* Joins a and b with one '/' into a new string; NULL when out of memory. */
static char *
path_join(const char *a, const char *b)
{
	struct cn_buf out;

	cn_buf_init(&out, 0);
	if (cn_buf_adds(&out, a) < 0 ||
	    ((out.len == 0 || out.ptr[out.len - 1] != '/') &&
	     cn_buf_addc(&out, '/') < 0) ||
	    cn_buf_adds(&out, b) < 0) {
		cn_buf_free(&out);
		return NULL;
	}
	return cn_buf_detach(&out);
}

/* The directory part of path ("." when there is none). */
static char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/*
 * Expands value into a new string in *out: "~" and "~/..." become $HOME;
 * a relative path is joined to base when base is not NULL.  what names
 * the setting in messages.  Returns 0, or -1 with err.
 */
static int
path_expand(const char *value, const char *base, const char *what,
	    char **out, struct cn_err *err)
{
	char pwbuf[4096];
	const char *home;

	*out = NULL;
	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0')) {
		home = home_dir(pwbuf, sizeof(pwbuf));
		if (!home)
			return cn_err_set(err, CN_ECONFIG,
					  "%s: cannot expand '~': HOME is not "
					  "set", what);
		*out = value[1] ? path_join(home, value + 2) : strdup(home);
	} else if (value[0] != '/' && base) {
		*out = path_join(base, value);
	} else {
		*out = strdup(value);
	}
	if (!*out)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	return 0;
}

/* The absolute directory of the file path (for relative paths in it). */
static char *
file_dir(const char *path)
{
	char *dir, *cwd, *abs;

	dir = path_dir(path);
	if (!dir || dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return dir;	/* relative to the current directory */
	abs = strcmp(dir, ".") == 0 ? strdup(cwd) : path_join(cwd, dir);
	free(cwd);
	free(dir);
	return abs;
}

/* ---------------------------------------------------------------- files */

/*
 * Reads the file at path into *data (malloc'ed, NUL-terminated) and its
 * status into *st.  Returns 1 when read, 0 when the file does not exist
 * and missing_ok is set, -1 with err (code ocode when it cannot be
 * opened).
 */
static int
slurp(const char *path, int missing_ok, enum cn_code ocode, char **data,
      size_t *len, struct stat *st, struct cn_err *err)
{
	struct cn_buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (missing_ok && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return cn_err_set(err, ocode, "%s: cannot open: %s", path,
				  strerror(errno));
	}
	if (fstat(fd, st) < 0) {
		cn_err_set(err, ocode, "%s: cannot stat: %s", path,
			   strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return cn_err_set(err, ocode, "%s: is a directory", path);
	}
	cn_buf_init(&b, CONFIG_MAX_SIZE);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cn_err_set(err, ocode, "%s: cannot read: %s", path,
				   strerror(errno));
			break;
		}
		if (n == 0) {
			close(fd);
			*len = b.len;
			*data = cn_buf_detach(&b);
			if (!*data)
				return cn_err_set(err, CN_EINTERNAL,
						  "out of memory");
			return 1;
		}
		if (cn_buf_add(&b, chunk, (size_t)n) < 0) {
			cn_err_set(err, ocode, "%s: too large (over %zu bytes)",
				   path, CONFIG_MAX_SIZE);
			break;
		}
	}
	explicit_bzero(b.ptr, b.len);
	cn_buf_free(&b);
	close(fd);
	return -1;
}

/* ---------------------------------------------------------------- yaml */

/* The state of one load (of a config file or of a map file). */
struct ld {
	yaml_parser_t parser;
	const char *file;	/* for messages */
	const char *data;	/* the file's text */
	size_t len;
	enum cn_code code;	/* the code of content errors */
	struct cn_err *err;

	/* config files only */
	struct cn_config *cfg;
	char *dir;		/* the file's directory, absolute */
	unsigned char seen[NKEYS];
	int have_rules;		/* phone.default_country was given */
	struct cn_phone_rules rules;
	int have_overseas;	/* phone.overseas was given */
	struct cn_phone_overseas *ov;
	size_t nov;

	/* map files only */
	struct mapld *map;
};

static int __attribute__((format(printf, 3, 4)))
ld_fail(struct ld *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cn_err_set(ld->err, ld->code, "%s:%zu:%zu: %s", ld->file,
			  m->line + 1, m->column + 1, msg);
}

/* Reports the parser's error: file, line, column and libyaml's words. */
static int
ld_yaml_error(struct ld *ld)
{
	yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	size_t line = 1, col = 1;

	if (p->error == YAML_MEMORY_ERROR)
		return cn_err_set(ld->err, CN_EINTERNAL, "%s: out of memory",
				  ld->file);
	if (p->error == YAML_READER_ERROR) {
		/* no mark: count lines and characters up to the offset */
		for (size_t i = 0; i < p->problem_offset && i < ld->len; i++) {
			unsigned char c = (unsigned char)ld->data[i];

			if (c == '\n') {
				line++;
				col = 1;
			} else if ((c & 0xc0) != 0x80) {
				col++;
			}
		}
		return cn_err_set(ld->err, ld->code, "%s:%zu:%zu: %s", ld->file,
				  line, col, problem);
	}
	if (p->context)
		return cn_err_set(ld->err, ld->code,
				  "%s:%zu:%zu: %s (%s at %zu:%zu)", ld->file,
				  p->problem_mark.line + 1,
				  p->problem_mark.column + 1, problem,
				  p->context, p->context_mark.line + 1,
				  p->context_mark.column + 1);
	return cn_err_set(ld->err, ld->code, "%s:%zu:%zu: %s", ld->file,
			  p->problem_mark.line + 1, p->problem_mark.column + 1,
			  problem);
}

/*
 * Reads the next event into *ev (the caller deletes it).  Aliases are
 * refused: expanding them is how a small file eats all memory.  Returns 0,
 * or -1 with the error set and nothing to delete.
 */
static int
ld_next(struct ld *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return ld_yaml_error(ld);
	if (ev->type == YAML_ALIAS_EVENT) {
		ld_fail(ld, &ev->start_mark,
			"aliases are not allowed (*%.40s)",
			(const char *)ev->data.alias.anchor);
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

static const char *
ev_what(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_SEQUENCE_START_EVENT: return "a sequence";
	case YAML_SCALAR_EVENT: return "a scalar";
	default: return "nothing";
	}
}

static const char *
sv(const yaml_event_t *ev)
{
	return (const char *)ev->data.scalar.value;
}

/* A scalar that stands for "no value": empty, ~ or null (plain). */
static int
ev_empty(const yaml_event_t *ev)
{
	const char *v = sv(ev);

	if (ev->type != YAML_SCALAR_EVENT)
		return 0;
	if (ev->data.scalar.length == 0)
		return 1;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* A scalar with a NUL byte inside (possible with "\0" escapes). */
static int
ev_has_nul(const yaml_event_t *ev)
{
	return strlen(sv(ev)) != ev->data.scalar.length;
}

/* ---------------------------------------------------------------- values */

static int
parse_long(const char *s, long *out)
{
	char *end;

	if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || *end)
		return -1;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};

	for (size_t i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static void
join_values(const char *const *v, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; v[i] && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
				      v[i]);
}

static int
url_ok(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	       strncasecmp(s, "https://", 8) == 0;
}

/* A URL with user:password@ in its authority holds a secret. */
static int
url_has_userinfo(const char *s)
{
	const char *p = strstr(s, "://");
	size_t n;

	if (!p)
		return 0;
	p += 3;
	n = strcspn(p, "/?#");
	return memchr(p, '@', n) != NULL;
}

static int
sender_ok(const char *s)
{
	size_t n = strlen(s), i = 0;

	if (s[0] == '+')
		i = 1;
	if (n > i && n - i <= 15 && strspn(s + i, "0123456789") == n - i)
		return 1;	/* a number */
	if (n == 0 || n > 11)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == ' '))
			return 0;
	}
	return 1;
}

/* Sets a string field from a scalar, checking it by the key's type. */
#define REGEX_MAX 256	/* bytes of a regular expression in the config */

/*
 * What makes a regular expression unfit for the configuration, or NULL:
 * longer than REGEX_MAX, or a repetition of a repetition ("o++", "a*{2}"):
 * glibc's regcomp() takes minutes and gigabytes on a few dozen of them
 * (found by the config fuzzer), and they mean nothing a plain one does
 * not (PCRE's possessive "a++" is not POSIX).
 */
static const char *
regex_bounds(const char *v)
{
	const char *open = NULL;	/* the '[' of a bracket expression */
	int quant = 0;

	if (strlen(v) > REGEX_MAX)
		return "regular expression longer than 256 bytes";
	for (const char *p = v; *p; p++) {
		if (open) {
			/* "[:alpha:]", "[.x.]", "[=e=]" inside: to their end */
			if (*p == '[' && p[1] && strchr(":.=", p[1])) {
				const char *e = strchr(p + 2, p[1]);

				while (e && e[1] != ']')
					e = strchr(e + 1, p[1]);
				if (e) {
					p = e + 1;
					continue;
				}
			}
			/* a ']' first ("[]a]", "[^]a]") is a literal */
			if (*p == ']' && p != open + 1 &&
			    !(p == open + 2 && open[1] == '^'))
				open = NULL;
			continue;
		}
		if (*p == '\\' && p[1]) {
			p++;
			quant = 0;
			continue;
		}
		if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			if (quant)
				return "a repetition of a repetition in a regular "
				       "expression (such as '++' or '*{2}')";
			if (*p == '{')
				while (p[1] && *p != '}')
					p++;
			quant = 1;
			continue;
		}
		quant = 0;
		if (*p == '[')
			open = p;
	}
	return NULL;
}

static int
ld_scalar(struct ld *ld, const struct key *k, const yaml_event_t *ev)
{
	struct cn_config *cfg = ld->cfg;
	const char *v = sv(ev);
	int secret = key_is_secret(k);
	char **dst, *val = NULL, list[128];
	long n;
	int b;

	if (ev_has_nul(ev))
		return ld_fail(ld, &ev->start_mark, "%s: holds a NUL byte",
			       k->name);
	switch (k->type) {
	case K_INT:
		if (parse_long(v, &n) < 0)
			return ld_fail(ld, &ev->start_mark,
				       "%s: expected an integer, got '%.*s'",
				       k->name, QUOTE_MAX, v);
		if (n < k->min || n > k->max)
			return ld_fail(ld, &ev->start_mark,
				       "%s: %ld is out of range (%ld to %ld)",
				       k->name, n, k->min, k->max);
		*key_long(cfg, k) = n;
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b) < 0)
			return ld_fail(ld, &ev->start_mark,
				       "%s: expected a boolean (true or "
				       "false), got '%.*s'",
				       k->name, QUOTE_MAX, v);
		*key_int(cfg, k) = b;
		return 0;
	case K_ENUM:
		for (size_t i = 0; k->values[i]; i++)
			if (strcasecmp(v, k->values[i]) == 0)
				val = strdup(k->values[i]);
		if (!val) {
			join_values(k->values, list, sizeof(list));
			return ld_fail(ld, &ev->start_mark,
				       "%s: expected one of %s, got '%.*s'",
				       k->name, list, QUOTE_MAX, v);
		}
		break;
	case K_URL:
		/* a URL may carry user:password@: never quote it */
		if (!url_ok(v))
			return ld_fail(ld, &ev->start_mark,
				       "%s: expected an http:// or https:// "
				       "URL", k->name);
		if (url_has_userinfo(v))
			cfg->has_secrets = 1;
		val = strdup(v);
		break;
	case K_SENDER:
		if (!sender_ok(v))
			return ld_fail(ld, &ev->start_mark,
				       "%s: expected a phone number or at "
				       "most 11 letters and digits, got "
				       "'%.*s'",
				       k->name, QUOTE_MAX, v);
		val = strdup(v);
		break;
	case K_REGEX: {
		regex_t re;
		const char *bad = regex_bounds(v);
		int rc;

		if (bad)
			return ld_fail(ld, &ev->start_mark,
				       "%s: %s", k->name, bad);
		rc = regcomp(&re, v, REG_EXTENDED);
		if (rc != 0) {
			char why[128];

			regerror(rc, &re, why, sizeof(why));
			return ld_fail(ld, &ev->start_mark,
				       "%s: invalid regular expression: %s",
				       k->name, why);
		}
		regfree(&re);
		val = strdup(v);
		break;
	}
	case K_PATH:
		if (path_expand(v, ld->dir, k->name, &val, ld->err) < 0)
			return -1;
		break;
	default:
		val = strdup(v);
		break;
	}
	if (!val)
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	if (secret)
		cfg->has_secrets = 1;
	dst = key_str(cfg, k);
	free_wipe(*dst);
	*dst = val;
	return 0;
}

static int
ld_country(struct ld *ld, const struct key *k, const yaml_event_t *ev)
{
	char cc[3];
	const char *v = sv(ev);
	struct cn_err e2;

	if (ev->data.scalar.length != 2 || !((v[0] | 0x20) >= 'a' &&
					     (v[0] | 0x20) <= 'z' &&
					     (v[1] | 0x20) >= 'a' &&
					     (v[1] | 0x20) <= 'z'))
		return ld_fail(ld, &ev->start_mark,
			       "%s: expected a two-letter country code, got "
			       "'%.*s'", k->name, QUOTE_MAX, v);
	cc[0] = (char)(v[0] & ~0x20);
	cc[1] = (char)(v[1] & ~0x20);
	cc[2] = '\0';
	memset(&ld->rules, 0, sizeof(ld->rules));
	if (cn_phone_rules_init(&ld->rules, cc, &e2) < 0) {
		cn_phone_rules_free(&ld->rules);
		memset(&ld->rules, 0, sizeof(ld->rules));
		return ld_fail(ld, &ev->start_mark,
			       "%s: unknown country '%s'", k->name, cc);
	}
	ld->have_rules = 1;
	return 0;
}

/* Adds one phone.overseas pair: prefix (digits) -> code ("+590", 590). */
static int
ld_overseas_pair(struct ld *ld, const yaml_event_t *kev,
		 const yaml_event_t *vev)
{
	const char *p = sv(kev), *c = sv(vev);
	size_t plen = kev->data.scalar.length, clen;
	struct cn_phone_overseas *o;

	if (plen == 0 || plen >= sizeof(o->prefix) ||
	    strspn(p, "0123456789") != plen)
		return ld_fail(ld, &kev->start_mark,
			       "phone.overseas: expected a national prefix "
			       "of digits, got '%.*s'", QUOTE_MAX, p);
	if (vev->type != YAML_SCALAR_EVENT || ev_empty(vev))
		return ld_fail(ld, &vev->start_mark,
			       "phone.overseas: expected a calling code for "
			       "'%s', got %s", p,
			       vev->type == YAML_SCALAR_EVENT ? "nothing" :
			       ev_what(vev));
	if (*c == '+')
		c++;
	clen = strlen(c);
	if (clen == 0 || clen > 3 || strspn(c, "0123456789") != clen ||
	    c[0] == '0')
		return ld_fail(ld, &vev->start_mark,
			       "phone.overseas: expected a calling code (1 "
			       "to 3 digits) for '%s', got '%.*s'", p,
			       QUOTE_MAX, sv(vev));
	for (size_t i = 0; i < ld->nov; i++)
		if (strcmp(ld->ov[i].prefix, p) == 0)
			return ld_fail(ld, &kev->start_mark,
				       "phone.overseas: duplicate prefix "
				       "'%s'", p);
	o = realloc(ld->ov, (ld->nov + 1) * sizeof(*o));
	if (!o)
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	ld->ov = o;
	o += ld->nov++;
	memset(o, 0, sizeof(*o));
	memcpy(o->prefix, p, plen);
	memcpy(o->code, c, clen);
	return 0;
}

/* Adds one sms.http.headers pair as "Name: value". */
static int
ld_header_pair(struct ld *ld, const yaml_event_t *kev,
	       const yaml_event_t *vev)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	struct cn_config *cfg = ld->cfg;
	const char *name = sv(kev), *value;
	size_t nlen = kev->data.scalar.length;
	struct cn_buf line;
	char **h;

	if (nlen == 0 || strspn(name, tchar) != nlen)
		return ld_fail(ld, &kev->start_mark,
			       "sms.http.headers: invalid header name '%.*s'",
			       QUOTE_MAX, name);
	if (vev->type != YAML_SCALAR_EVENT)
		return ld_fail(ld, &vev->start_mark,
			       "sms.http.headers: expected a value for '%s', "
			       "got %s", name, ev_what(vev));
	/* header values may be credentials: never quote them */
	value = ev_empty(vev) ? "" : sv(vev);
	if (ev_has_nul(vev) || strpbrk(value, "\r\n"))
		return ld_fail(ld, &vev->start_mark,
			       "sms.http.headers: the value of '%s' holds a "
			       "line break or a NUL byte", name);
	if (header_is_secret(name))
		cfg->has_secrets = 1;
	h = realloc(cfg->sms_http_headers,
		    (cfg->sms_http_nheaders + 1) * sizeof(*h));
	if (!h)
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	cfg->sms_http_headers = h;
	cn_buf_init(&line, 0);
	if (cn_buf_addf(&line, "%s: %s", name, value) < 0) {
		cn_buf_free(&line);
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	}
	h[cfg->sms_http_nheaders++] = cn_buf_detach(&line);
	return 0;
}

/*
 * Reads a mapping of scalar pairs (the MAPPING-START already read) and
 * hands each pair to fn.
 */
static int
ld_pairs(struct ld *ld, const struct key *k,
	 int (*fn)(struct ld *, const yaml_event_t *, const yaml_event_t *))
{
	yaml_event_t kev, vev;
	int rc;

	for (;;) {
		if (ld_next(ld, &kev) < 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT || ev_has_nul(&kev)) {
			rc = ld_fail(ld, &kev.start_mark,
				     "%s: expected a scalar key, got %s",
				     k->name, ev_what(&kev));
			yaml_event_delete(&kev);
			return rc;
		}
		if (ld_next(ld, &vev) < 0) {
			yaml_event_delete(&kev);
			return -1;
		}
		rc = fn(ld, &kev, &vev);
		yaml_event_delete(&kev);
		yaml_event_delete(&vev);
		if (rc < 0)
			return -1;
	}
}

/* Reads sync.kinds (the SEQUENCE-START already read). */
static int
ld_kinds(struct ld *ld, const struct key *k)
{
	char **dst = key_str(ld->cfg, k), list[128];
	unsigned seen = 0;
	struct cn_buf out;
	yaml_event_t ev;
	size_t i;
	int rc = 0;

	cn_buf_init(&out, 0);
	for (;;) {
		if (ld_next(ld, &ev) < 0) {
			rc = -1;
			break;
		}
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			rc = ld_fail(ld, &ev.start_mark,
				     "%s: expected a kind, got %s", k->name,
				     ev_what(&ev));
			yaml_event_delete(&ev);
			break;
		}
		for (i = 0; k->values[i]; i++)
			if (strcasecmp(sv(&ev), k->values[i]) == 0)
				break;
		if (!k->values[i]) {
			join_values(k->values, list, sizeof(list));
			rc = ld_fail(ld, &ev.start_mark,
				     "%s: expected one of %s, got '%.*s'",
				     k->name, list, QUOTE_MAX, sv(&ev));
		} else if (seen & (1u << i)) {
			rc = ld_fail(ld, &ev.start_mark,
				     "%s: duplicate kind '%s'", k->name,
				     k->values[i]);
		} else {
			seen |= 1u << i;
			if ((out.len && cn_buf_addc(&out, ',') < 0) ||
			    cn_buf_adds(&out, k->values[i]) < 0)
				rc = cn_err_set(ld->err, CN_EINTERNAL,
						"out of memory");
		}
		yaml_event_delete(&ev);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		cn_buf_free(&out);
		return -1;
	}
	free(*dst);
	*dst = cn_buf_detach(&out);
	if (!*dst)
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	return 0;
}

static int ld_mapping(struct ld *ld, const char *prefix);

/* Handles the value of key k; takes ownership of *ev (deletes it). */
static int
ld_value(struct ld *ld, const struct key *k, yaml_event_t *ev)
{
	const char *want;
	int rc;

	if (ev_empty(ev)) {	/* "key:" alone keeps the default */
		yaml_event_delete(ev);
		return 0;
	}
	switch (k->type) {
	case K_SECTION:
	case K_OVERSEAS:
	case K_HEADERS:
		if (ev->type != YAML_MAPPING_START_EVENT)
			break;
		yaml_event_delete(ev);
		if (k->type == K_SECTION)
			return ld_mapping(ld, k->name);
		if (k->type == K_HEADERS)
			return ld_pairs(ld, k, ld_header_pair);
		ld->have_overseas = 1;
		return ld_pairs(ld, k, ld_overseas_pair);
	case K_KINDS:
		if (ev->type != YAML_SEQUENCE_START_EVENT)
			break;
		yaml_event_delete(ev);
		return ld_kinds(ld, k);
	default:
		if (ev->type != YAML_SCALAR_EVENT)
			break;
		rc = k->type == K_COUNTRY ? ld_country(ld, k, ev) :
					    ld_scalar(ld, k, ev);
		yaml_event_delete(ev);
		return rc;
	}
	switch (k->type) {
	case K_SECTION: case K_OVERSEAS: case K_HEADERS:
		want = "a mapping";
		break;
	case K_KINDS: want = "a sequence"; break;
	case K_INT: want = "an integer"; break;
	case K_BOOL: want = "a boolean (true or false)"; break;
	default: want = "a string"; break;
	}
	rc = ld_fail(ld, &ev->start_mark, "%s: expected %s, got %s", k->name,
		     want, ev_what(ev));
	yaml_event_delete(ev);
	return rc;
}

/*
 * Reads the keys of a mapping (its MAPPING-START already read) whose
 * dotted prefix is prefix (NULL at the top).
 */
static int
ld_mapping(struct ld *ld, const char *prefix)
{
	yaml_event_t kev, vev;
	const struct key *k;
	char name[128];
	size_t i;
	int rc;

	for (;;) {
		if (ld_next(ld, &kev) < 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			rc = ld_fail(ld, &kev.start_mark,
				     "expected a key, got %s", ev_what(&kev));
			yaml_event_delete(&kev);
			return rc;
		}
		snprintf(name, sizeof(name), "%s%s%.*s", prefix ? prefix : "",
			 prefix ? "." : "", QUOTE_MAX, sv(&kev));
		k = NULL;
		/* a dotted key ("backup.dir:") is not a short form */
		if (!strchr(sv(&kev), '.') && !ev_has_nul(&kev))
			for (i = 0; i < NKEYS; i++)
				if (strcmp(keys[i].name, name) == 0) {
					k = &keys[i];
					break;
				}
		if (!k) {
			rc = ld_fail(ld, &kev.start_mark, "unknown key '%s'",
				     name);
			yaml_event_delete(&kev);
			return rc;
		}
		if (ld->seen[i]) {
			rc = ld_fail(ld, &kev.start_mark, "duplicate key '%s'",
				     name);
			yaml_event_delete(&kev);
			return rc;
		}
		ld->seen[i] = 1;
		yaml_event_delete(&kev);
		if (ld_next(ld, &vev) < 0)
			return -1;
		if (ld_value(ld, k, &vev) < 0)
			return -1;
	}
}

/*
 * Reads a stream that holds at most one document and calls body on the
 * root event (owned by body).  An empty stream calls body with NULL.
 */
static int
ld_stream(struct ld *ld, int (*body)(struct ld *, yaml_event_t *))
{
	yaml_event_t ev;
	int rc;

	if (ld_next(ld, &ev) < 0)	/* STREAM-START */
		return -1;
	yaml_event_delete(&ev);
	if (ld_next(ld, &ev) < 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return body(ld, NULL);
	}
	yaml_event_delete(&ev);		/* DOCUMENT-START */
	if (ld_next(ld, &ev) < 0)
		return -1;
	if (body(ld, &ev) < 0)
		return -1;
	if (ld_next(ld, &ev) < 0)	/* DOCUMENT-END */
		return -1;
	yaml_event_delete(&ev);
	if (ld_next(ld, &ev) < 0)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT) {
		rc = ld_fail(ld, &ev.start_mark, "expected a single document");
		yaml_event_delete(&ev);
		return rc;
	}
	yaml_event_delete(&ev);
	return 0;
}

static int
config_body(struct ld *ld, yaml_event_t *root)
{
	int rc;

	if (!root)
		return 0;
	if (root->type == YAML_MAPPING_START_EVENT) {
		yaml_event_delete(root);
		return ld_mapping(ld, NULL);
	}
	if (ev_empty(root)) {	/* "---" or "~" alone: no settings */
		yaml_event_delete(root);
		return 0;
	}
	rc = ld_fail(ld, &root->start_mark,
		     "expected a mapping of settings, got %s", ev_what(root));
	yaml_event_delete(root);
	return rc;
}

/* Runs body over the YAML text ld->data. */
static int
ld_run(struct ld *ld, int (*body)(struct ld *, yaml_event_t *))
{
	int rc;

	if (!yaml_parser_initialize(&ld->parser))
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	yaml_parser_set_input_string(&ld->parser,
				     (const unsigned char *)ld->data, ld->len);
	rc = ld_stream(ld, body);
	yaml_parser_delete(&ld->parser);
	return rc;
}

/* ---------------------------------------------------------------- config */

static int
set_default(char **dst, const char *value, struct cn_err *err)
{
	if (*dst)
		return 0;
	*dst = strdup(value);
	if (!*dst)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	return 0;
}

/* Overrides *dst with the environment variable var when set and not
 * empty; paths are "~/"-expanded (relative ones stay relative). */
static int
env_override(const char *var, char **dst, int path, struct cn_err *err)
{
	const char *v = getenv(var);
	char *val;

	if (!v || !*v)
		return 0;
	if (path) {
		if (path_expand(v, NULL, var, &val, err) < 0)
			return -1;
	} else if (!(val = strdup(v))) {
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	free(*dst);
	*dst = val;
	return 0;
}

/* An XDG base directory: $var if absolute, else $HOME/fallback. */
static char *
xdg_dir(const char *var, const char *fallback, struct cn_err *err)
{
	const char *v = getenv(var), *home;
	char pwbuf[4096], *out;

	if (v && v[0] == '/')
		out = strdup(v);
	else if ((home = home_dir(pwbuf, sizeof(pwbuf))))
		out = path_join(home, fallback);
	else {
		cn_err_set(err, CN_ECONFIG, "cannot find the home directory: "
			   "set HOME, or %s", var);
		return NULL;
	}
	if (!out)
		cn_err_set(err, CN_EINTERNAL, "out of memory");
	return out;
}

/* Defaults that depend on the environment and on other settings. */
static int
fill_defaults(struct cn_config *cfg, struct cn_err *err)
{
	const char *u;
	char *dir;

	if (!cfg->store) {
		if (!(dir = xdg_dir("XDG_DATA_HOME", ".local/share", err)))
			return -1;
		cfg->store = path_join(dir, "carnet/carnet.db");
		free(dir);
		if (!cfg->store)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	if (!cfg->backup_dir) {
		if (!(dir = path_dir(cfg->store)))
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
		cfg->backup_dir = path_join(dir, "backups");
		free(dir);
		if (!cfg->backup_dir)
			return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	u = getenv("USER");
	if (set_default(&cfg->folder, "default", err) < 0 ||
	    set_default(&cfg->user, u && *u ? u : "carnet", err) < 0)
		return -1;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sdef &&
		    set_default(key_str(cfg, &keys[i]), keys[i].sdef, err) < 0)
			return -1;
	return 0;
}

/* Installs the phone rules: the country's, with phone.overseas in place
 * of its overseas table when given. */
static int
install_phone(struct ld *ld)
{
	struct cn_config *cfg = ld->cfg;
	char cc[3];

	if (!ld->have_rules) {
		memset(&ld->rules, 0, sizeof(ld->rules));
		if (cn_phone_rules_init(&ld->rules, "FR", ld->err) < 0)
			return -1;
		ld->have_rules = 1;
	}
	cfg->phone = ld->rules;
	ld->have_rules = 0;
	if (ld->have_overseas) {
		memcpy(cc, cfg->phone.country, sizeof(cc));
		cn_phone_rules_free(&cfg->phone);
		memset(&cfg->phone, 0, sizeof(cfg->phone));
		memcpy(cfg->phone.country, cc, sizeof(cc));
		cfg->phone.overseas = ld->ov;
		cfg->phone.noverseas = ld->nov;
		ld->ov = NULL;
		ld->nov = 0;
	}
	return 0;
}

/*
 * Finds the file to read: path, else $CARNET_CONFIG (both must exist),
 * else the XDG default if it exists.  Sets *out (malloc'ed, or NULL when
 * there is no file to read) and *must_exist.
 */
static int
config_path(const char *path, char **out, int *must_exist,
	    struct cn_err *err)
{
	char *dir;

	*out = NULL;
	*must_exist = 1;
	if (!path || !*path)
		path = getenv("CARNET_CONFIG");
	if (path && *path)
		return path_expand(path, NULL, "the config path", out, err);
	*must_exist = 0;
	if (!(dir = xdg_dir("XDG_CONFIG_HOME", ".config", err)))
		return -1;
	*out = path_join(dir, "carnet/config.yaml");
	free(dir);
	if (!*out)
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	return 0;
}

/*
 * Fills *cfg (any previous contents are ignored, not freed): defaults, then
 * the file, then the environment.  The caller frees cfg with
 * cn_config_free().  On error returns -1, fills err (CN_ECONFIG, or
 * CN_EINTERNAL when out of memory) and leaves cfg freed and zeroed.
 */
int
cn_config_load(struct cn_config *cfg, const char *path, struct cn_err *err)
{
	struct ld ld;
	struct stat st;
	char *file = NULL, *data = NULL;
	size_t len = 0;
	int must_exist, rc = -1, got;

	memset(cfg, 0, sizeof(*cfg));
	memset(&ld, 0, sizeof(ld));
	cn_err_clear(err);
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == K_INT)
			*key_long(cfg, &keys[i]) = keys[i].idef;
		else if (keys[i].type == K_BOOL)
			*key_int(cfg, &keys[i]) = (int)keys[i].idef;
	}

	if (config_path(path, &file, &must_exist, err) < 0)
		goto out;
	got = slurp(file, !must_exist, CN_ECONFIG, &data, &len, &st, err);
	if (got < 0)
		goto out;
	ld.err = err;
	ld.cfg = cfg;
	ld.code = CN_ECONFIG;
	if (got) {
		cfg->path = file;
		file = NULL;
		ld.file = cfg->path;
		ld.data = data;
		ld.len = len;
		if (!(ld.dir = file_dir(cfg->path))) {
			cn_err_set(err, CN_EINTERNAL, "out of memory");
			goto out;
		}
		if (ld_run(&ld, config_body) < 0)
			goto out;
		if (cfg->has_secrets && (st.st_mode & 077)) {
			cn_err_set(err, CN_ECONFIG,
				   "%s: holds secrets and is readable by "
				   "others (mode %04o); run chmod 600 %s",
				   cfg->path, (unsigned)(st.st_mode & 07777),
				   cfg->path);
			goto out;
		}
	}
	if (install_phone(&ld) < 0)
		goto out;
	if (env_override("CARNET_STORE", &cfg->store, 1, err) < 0 ||
	    env_override("CARNET_FOLDER", &cfg->folder, 0, err) < 0 ||
	    env_override("CARNET_USER", &cfg->user, 0, err) < 0 ||
	    env_override("CARNET_BACKUP_DIR", &cfg->backup_dir, 1, err) < 0)
		goto out;
	if (fill_defaults(cfg, err) < 0)
		goto out;
	rc = 0;
out:
	if (ld.have_rules)
		cn_phone_rules_free(&ld.rules);
	free(ld.ov);
	free(ld.dir);
	free(file);
	if (data) {
		explicit_bzero(data, len);
		free(data);
	}
	if (rc < 0)
		cn_config_free(cfg);
	return rc;
}

/* Frees what cfg holds (secrets are wiped first) and zeroes it; safe on a
 * zeroed or already freed struct and on NULL. */
void
cn_config_free(struct cn_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (key_has_string(&keys[i]))
			free_wipe(*key_str(cfg, &keys[i]));
	for (size_t i = 0; i < cfg->sms_http_nheaders; i++)
		free_wipe(cfg->sms_http_headers[i]);
	free(cfg->sms_http_headers);
	free(cfg->path);
	cn_phone_rules_free(&cfg->phone);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---------------------------------------------------------------- map */

/* State of a map file load, beside struct ld. */
struct mapld {
	struct cn_buf *map;
	char **names;		/* source columns seen, for duplicates */
	size_t nnames;
};

/* Appends s with ',' '=' and '\\' escaped by a backslash. */
static int
add_escaped(struct cn_buf *b, const char *s)
{
	for (; *s; s++)
		if ((strchr(",=\\", *s) && cn_buf_addc(b, '\\') < 0) ||
		    cn_buf_addc(b, *s) < 0)
			return -1;
	return 0;
}

static int
map_pair(struct ld *ld, const yaml_event_t *kev, const yaml_event_t *vev)
{
	struct mapld *m = ld->map;
	const char *src = sv(kev);
	char **names;

	if (ev_empty(kev) || ev_has_nul(kev))
		return ld_fail(ld, &kev->start_mark,
			       "expected a source column name");
	if (vev->type != YAML_SCALAR_EVENT || ev_empty(vev) ||
	    ev_has_nul(vev))
		return ld_fail(ld, &vev->start_mark,
			       "expected a field name for '%.*s', got %s",
			       QUOTE_MAX, src,
			       vev->type == YAML_SCALAR_EVENT ? "nothing" :
			       ev_what(vev));
	for (size_t i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i], src) == 0)
			return ld_fail(ld, &kev->start_mark,
				       "duplicate column '%.*s'", QUOTE_MAX,
				       src);
	names = realloc(m->names, (m->nnames + 1) * sizeof(*names));
	if (!names)
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	m->names = names;
	if (!(names[m->nnames] = strdup(src)))
		return cn_err_set(ld->err, CN_EINTERNAL, "out of memory");
	m->nnames++;
	if ((m->map->len && cn_buf_addc(m->map, ',') < 0) ||
	    add_escaped(m->map, src) < 0 || cn_buf_addc(m->map, '=') < 0 ||
	    add_escaped(m->map, sv(vev)) < 0)
		return cn_err_set(ld->err, ld->code, "%s: map too large",
				  ld->file);
	return 0;
}

static int
map_body(struct ld *ld, yaml_event_t *root)
{
	static const yaml_mark_t start;	/* 1:1 for an empty file */
	yaml_event_t kev, vev;
	int rc;

	if (!root || root->type != YAML_MAPPING_START_EVENT) {
		rc = ld_fail(ld, root ? &root->start_mark : &start,
			     "expected a mapping of source column to field");
		if (root)
			yaml_event_delete(root);
		return rc;
	}
	yaml_event_delete(root);
	for (;;) {
		if (ld_next(ld, &kev) < 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			rc = ld_fail(ld, &kev.start_mark,
				     "expected a source column name, got %s",
				     ev_what(&kev));
			yaml_event_delete(&kev);
			return rc;
		}
		if (ld_next(ld, &vev) < 0) {
			yaml_event_delete(&kev);
			return -1;
		}
		rc = map_pair(ld, &kev, &vev);
		yaml_event_delete(&kev);
		yaml_event_delete(&vev);
		if (rc < 0)
			return -1;
	}
}

/*
 * Reads the YAML mapping "Source column: target" in the file at path and
 * appends each pair to *map (borrowed) as "Source=target", separated by
 * ',' (one is added first when *map is not empty): the form --map takes.
 * A ',' '=' or '\' inside a name is escaped with a '\', which the --map
 * parser accepts.  Returns 0, or -1 with err (CN_ENOINPUT when the file
 * cannot be opened, CN_EUSAGE "<file>:<line>:<col>: ..." for its contents)
 * and *map left as it was.
 */
int
cn_mapfile_load(const char *path, struct cn_buf *map, struct cn_err *err)
{
	struct mapld m = {.map = map};
	struct ld ld;
	struct stat st;
	char *data;
	size_t len, orig = map->len;
	int rc;

	cn_err_clear(err);
	if (slurp(path, 0, CN_ENOINPUT, &data, &len, &st, err) < 0)
		return -1;
	memset(&ld, 0, sizeof(ld));
	ld.file = path;
	ld.data = data;
	ld.len = len;
	ld.code = CN_EUSAGE;
	ld.err = err;
	ld.map = &m;
	rc = ld_run(&ld, map_body);
	for (size_t i = 0; i < m.nnames; i++)
		free(m.names[i]);
	free(m.names);
	free(data);
	if (rc < 0) {
		map->len = orig;
		if (map->cap)
			map->ptr[orig] = '\0';
	}
	return rc;
}
