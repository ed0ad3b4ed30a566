/*
 * template.c - SMS templates: the merge-field parser and renderer, reply
 * handling, and the templates of the store (add, edit, delete, lookups
 * for the sender, listing, export and import).
 *
 * A body is compiled once into literal text and fields (struct cn_tpl)
 * and rendered for each recipient.  Every change to the store happens in
 * one transaction that also stamps updated_at and marks the template for
 * sync; setting a default clears the previous one in the same
 * transaction.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "carnet.h"
#include "internal.h"

#define CONTEXT_MAX 100		/* characters in a usage context */

static const char *const core_fields[] = {"first_name", "last_name",
					  "phone", "email"};
#define NCORE (sizeof(core_fields) / sizeof(core_fields[0]))

/* --------------------------------------------------------------- utf-8 */

/* Length of the UTF-8 sequence that starts with byte c (input valid). */
static size_t
u8len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/* Characters in s[0..len) (valid UTF-8). */
static size_t
u8chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Line and column (1-based, characters) of byte offset off in s. */
static void
position(const char *s, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* -------------------------------------------------------------- parser */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A malloc'ed copy of s[0..len) trimmed of spaces and tabs. */
static char *
trimmed_dup(const char *s, size_t len)
{
	char *p;

	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	while (len && is_blank(s[len - 1]))
		len--;
	p = malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

void
cn_tpl_free(struct cn_tpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nfields; i++) {
		free(t->fields[i].name);
		free(t->fields[i].def);
	}
	free(t->fields);
	free(t->lit);
	memset(t, 0, sizeof(*t));
}

static int
tpl_fail(struct cn_tpl *t, struct cn_buf *lit, struct cn_err *err,
	 const char *what, unsigned line, unsigned col)
{
	cn_buf_free(lit);
	cn_tpl_free(t);
	return cn_err_set(err, CN_EDATA, "%s at line %u, column %u", what, line,
			  col);
}

static int
tpl_oom(struct cn_tpl *t, struct cn_buf *lit, struct cn_err *err)
{
	cn_buf_free(lit);
	cn_tpl_free(t);
	return cn_err_set(err, CN_EINTERNAL, "out of memory");
}

int
cn_tpl_parse(struct cn_tpl *t, const char *body, size_t len,
	     struct cn_err *err)
{
	struct cn_buf lit;
	size_t i = 0, lit_start = 0, alloc = 0, bad;
	unsigned line = 1, col = 1;

	memset(t, 0, sizeof(*t));
	cn_buf_init(&lit, 0);
	if (!cn_utf8_valid(body, len, &bad)) {
		position(body, bad, &line, &col);
		return tpl_fail(t, &lit, err,
				bad < len && body[bad] == '\0' ? "NUL byte"
							      : "invalid UTF-8",
				line, col);
	}
	while (i < len) {
		char c = body[i];

		if (c == '{' && i + 1 < len && body[i + 1] == '{') {
			struct cn_tpl_field *f;
			size_t j = i + 2, pipe = 0;
			unsigned fline = line, fcol = col;

			if (i + 3 < len && body[i + 2] == '{' &&
			    body[i + 3] == '{') {
				/* "{{{{" is a literal "{{" */
				if (cn_buf_add(&lit, "{{", 2) < 0)
					return tpl_oom(t, &lit, err);
				i += 4;
				col += 4;
				continue;
			}
			col += 2;
			for (;;) {
				unsigned char d;

				if (j >= len || body[j] == '\n' ||
				    body[j] == '\r')
					return tpl_fail(t, &lit, err,
							"unclosed '{{'", fline,
							fcol);
				d = (unsigned char)body[j];
				if (d == '}') {
					if (j + 1 < len && body[j + 1] == '}')
						break;
					return tpl_fail(t, &lit, err,
							"'}' inside a merge "
							"field", line, col);
				}
				if (d == '{')
					return tpl_fail(t, &lit, err,
							"'{' inside a merge "
							"field", line, col);
				if ((d < 0x20 && d != '\t') || d == 0x7f)
					return tpl_fail(t, &lit, err,
							"control character "
							"inside a merge field",
							line, col);
				if (d == '|' && !pipe)
					pipe = j;
				j += u8len(d);
				col++;
			}
			if (t->nfields == alloc) {
				size_t na = alloc ? alloc * 2 : 8;
				void *p = realloc(t->fields,
						  na * sizeof(*t->fields));

				if (!p)
					return tpl_oom(t, &lit, err);
				t->fields = p;
				alloc = na;
			}
			f = &t->fields[t->nfields];
			memset(f, 0, sizeof(*f));
			f->line = fline;
			f->column = fcol;
			f->lit_off = lit_start;
			f->lit_len = lit.len - lit_start;
			t->nfields++;
			f->name = trimmed_dup(body + i + 2,
					      (pipe ? pipe : j) - (i + 2));
			if (!f->name)
				return tpl_oom(t, &lit, err);
			if (pipe) {
				f->def = trimmed_dup(body + pipe + 1,
						     j - pipe - 1);
				if (!f->def)
					return tpl_oom(t, &lit, err);
			}
			if (!*f->name)
				return tpl_fail(t, &lit, err,
						"empty merge field name", fline,
						fcol);
			if (strcmp(f->name, "sender") == 0)
				f->kind = CN_TPL_SENDER;
			else if (strcmp(f->name, "date") == 0)
				f->kind = CN_TPL_DATE;
			lit_start = lit.len;
			i = j + 2;
			col += 2;
			continue;
		}
		if (c == '}' && i + 1 < len && body[i + 1] == '}') {
			if (i + 3 < len && body[i + 2] == '}' &&
			    body[i + 3] == '}') {
				if (cn_buf_add(&lit, "}}", 2) < 0)
					return tpl_oom(t, &lit, err);
				i += 4;
				col += 4;
				continue;
			}
			return tpl_fail(t, &lit, err, "unmatched '}}'", line,
					col);
		}
		{
			size_t n = u8len((unsigned char)c);

			if (cn_buf_add(&lit, body + i, n) < 0)
				return tpl_oom(t, &lit, err);
			i += n;
			if (c == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
	}
	t->tail_off = lit_start;
	t->tail_len = lit.len - lit_start;
	t->lit = cn_buf_detach(&lit);
	if (!t->lit)
		return tpl_oom(t, &lit, err);
	return 0;
}

int
cn_tpl_check(const struct cn_tpl *t, const char *const *known, size_t nknown,
	     struct cn_err *err)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cn_tpl_field *f = &t->fields[i];
		struct cn_buf names;
		int found = f->kind != CN_TPL_RECORD;

		for (size_t k = 0; !found && k < NCORE; k++)
			found = strcmp(f->name, core_fields[k]) == 0;
		for (size_t k = 0; !found && k < nknown; k++)
			found = strcmp(f->name, known[k]) == 0;
		if (found)
			continue;
		cn_buf_init(&names, 0);
		for (size_t k = 0; k < NCORE; k++)
			cn_buf_addf(&names, "%s, ", core_fields[k]);
		cn_buf_adds(&names, "sender, date");
		for (size_t k = 0; k < nknown && names.len < 250; k++)
			cn_buf_addf(&names, ", %s", known[k]);
		if (names.len >= 250)
			cn_buf_adds(&names, ", ...");
		cn_err_set(err, CN_EDATA,
			   "unknown merge field '%s' at line %u, column %u "
			   "(known: %s)", f->name, f->line, f->column,
			   names.ptr);
		cn_buf_free(&names);
		return -1;
	}
	return 0;
}

void
cn_tpl_date(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) ||
	    strftime(out, 11, "%d/%m/%Y", &tm) != 10)
		snprintf(out, 11, "00/00/0000");
}

/* 1 if v[0..len) holds only white space. */
static int
blank_value(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)v[i]))
			return 0;
	return 1;
}

int
cn_tpl_render(const struct cn_tpl *t, const struct cn_record *rec,
	      const struct cn_tpl_env *env, struct cn_buf *out,
	      struct cn_err *err)
{
	size_t start = out->len;
	char date[11];

	for (size_t i = 0; i < t->nfields; i++) {
		const struct cn_tpl_field *f = &t->fields[i];
		const char *v = NULL;
		size_t vlen = 0;

		if (cn_buf_add(out, t->lit + f->lit_off, f->lit_len) < 0)
			goto oom;
		if (f->kind == CN_TPL_SENDER) {
			if (env && env->sender && *env->sender) {
				v = env->sender;
				vlen = strlen(v);
			}
		} else if (f->kind == CN_TPL_DATE) {
			cn_tpl_date(env && env->date ? env->date : cn_now(), date);
			v = date;
			vlen = strlen(date);
		} else {
			const struct cn_field *fd =
				rec ? cn_record_get(rec, f->name) : NULL;

			if (fd && fd->type == CN_V_RAW) {
				cn_err_set(err, CN_EDATA,
					   "merge field '%s' (template line "
					   "%u, column %u) holds a JSON object "
					   "or array, not a text", f->name,
					   f->line, f->column);
				goto fail;
			}
			if (fd && fd->value) {
				v = fd->value;
				vlen = fd->len;
				/* values are trimmed, as imports trim them */
				while (vlen && isspace((unsigned char)*v)) {
					v++;
					vlen--;
				}
				while (vlen &&
				       isspace((unsigned char)v[vlen - 1]))
					vlen--;
			}
		}
		if (!v || blank_value(v, vlen)) {
			if (!f->def) {
				cn_err_set(err, CN_EDATA,
					   "missing value for merge field '%s'"
					   " (template line %u, column %u)",
					   f->name, f->line, f->column);
				goto fail;
			}
			v = f->def;
			vlen = strlen(v);
		}
		if (cn_buf_add(out, v, vlen) < 0)
			goto oom;
	}
	if (cn_buf_add(out, t->lit + t->tail_off, t->tail_len) < 0)
		goto oom;
	return 0;
oom:
	cn_err_set(err, CN_EINTERNAL, "rendered text too long or out of "
		   "memory");
fail:
	out->len = start;
	if (out->cap)
		out->ptr[start] = '\0';
	return -1;
}

int
cn_tpl_preview(const struct cn_tpl *t, const struct cn_record *rec,
	       const struct cn_tpl_env *env, const struct cn_sms_opts *o,
	       long max_segments, struct cn_buf *text,
	       struct cn_sms_preview *p, struct cn_err *err)
{
	memset(p, 0, sizeof(*p));
	cn_buf_reset(text);
	if (cn_tpl_render(t, rec, env, text, err) < 0 ||
	    cn_sms_preview(text->ptr, text->len, o, p, err) < 0)
		return -1;
	if (max_segments > 0 && p->segments > (size_t)max_segments) {
		cn_err_set(err, CN_EDATA,
			   "the text is %zu segments long (at most %ld: "
			   "sms.max_segments)", p->segments, max_segments);
		cn_sms_preview_free(p);
		return -1;
	}
	return 0;
}

void
cn_template_sms_opts(const struct cn_config *cfg, const char *sender,
		     int transliterate, struct cn_sms_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->transliterate = transliterate;
	if (sender && *sender)
		o->sender = sender;
	else if (cfg && cfg->sms_sender && *cfg->sms_sender)
		o->sender = cfg->sms_sender;
	o->stop_mention = cfg ? cfg->sms_stop_mention : NULL;
	o->stop_newline = cfg && cfg->sms_stop_separator &&
			  strcmp(cfg->sms_stop_separator, "newline") == 0;
}

/* -------------------------------------------------------------- values */

int
cn_tpl_scope_parse(const char *s, enum cn_tpl_scope *out)
{
	if (strcmp(s, "common") == 0)
		*out = CN_SCOPE_COMMON;
	else if (strcmp(s, "folder") == 0)
		*out = CN_SCOPE_FOLDER;
	else if (strcmp(s, "users") == 0)
		*out = CN_SCOPE_USERS;
	else
		return -1;
	return 0;
}

const char *
cn_tpl_scope_name(enum cn_tpl_scope s)
{
	switch (s) {
	case CN_SCOPE_COMMON: return "common";
	case CN_SCOPE_USERS: return "users";
	default: return "folder";
	}
}

static const char *
reply_mode_name(enum cn_tpl_reply r)
{
	switch (r) {
	case CN_REPLY_HOURS: return "hours";
	case CN_REPLY_UNTIL: return "until";
	default: return "none";
	}
}

/* Reads n decimal digits at *p into *v; advances *p.  Returns 0 or -1. */
static int
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30,
				31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* Parses an ISO 8601 date or date and time (see cn_tpl_reply_parse). */
static int
iso_parse(const char *s, int64_t *out)
{
	const char *p = s;
	struct tm tm;
	int y, mo, d, h = 23, mi = 59, sec = 59, tz = 0, off = 0;
	time_t t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo))
		return -1;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		sec = 0;
		if (*p == ':' && (p++, digits(&p, 2, &sec)))
			return -1;
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
		if (*p == 'Z' || *p == 'z') {
			tz = 1;
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (*p && digits(&p, 2, &om))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
			tz = 1;
			off = sign * (oh * 3600 + om * 60);
		}
		if (*p)
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (tz) {
		t = timegm(&tm);
		*out = (int64_t)t - off;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
		*out = (int64_t)t;
	}
	return *out > 0 ? 0 : -1;
}

int
cn_tpl_reply_parse(const char *s, enum cn_tpl_reply *mode, int64_t *hours,
		   int64_t *until, struct cn_err *err)
{
	*hours = 0;
	*until = 0;
	if (strcmp(s, "none") == 0) {
		*mode = CN_REPLY_NONE;
		return 0;
	}
	if (strcmp(s, "until") == 0) {
		*mode = CN_REPLY_UNTIL;
		return 0;
	}
	if (strncmp(s, "hours:", 6) == 0) {
		char *end;
		long long v;

		if (!isdigit((unsigned char)s[6]))
			goto bad_hours;
		v = strtoll(s + 6, &end, 10);
		if (*end || v < 1 || v > CN_REPLY_HOURS_MAX)
			goto bad_hours;
		*mode = CN_REPLY_HOURS;
		*hours = v;
		return 0;
	bad_hours:
		return cn_err_set(err, CN_EUSAGE,
				  "invalid reply handling '%s': hours must be "
				  "a whole number from 1 to %d", s,
				  CN_REPLY_HOURS_MAX);
	}
	if (strncmp(s, "until:", 6) == 0) {
		if (iso_parse(s + 6, until) < 0)
			return cn_err_set(err, CN_EUSAGE,
					  "invalid reply handling '%s': "
					  "expected an ISO 8601 date "
					  "(2026-12-01) or date and time "
					  "(2026-12-01T18:00, with Z or an "
					  "offset for UTC)", s);
		*mode = CN_REPLY_UNTIL;
		return 0;
	}
	return cn_err_set(err, CN_EUSAGE,
			  "invalid reply handling '%s' (none, hours:N, until, "
			  "until:DATE)", s);
}

/* Formats Unix time t as "2026-11-22T08:30:00Z" into buf[21]. */
static const char *
iso_utc(int64_t t, char buf[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 21, "%lld", (long long)t);
	return buf;
}

const char *
cn_tpl_reply_format(enum cn_tpl_reply mode, int64_t hours, int64_t until,
		    char buf[40])
{
	char iso[21];

	switch (mode) {
	case CN_REPLY_HOURS:
		snprintf(buf, 40, "hours:%lld", (long long)hours);
		break;
	case CN_REPLY_UNTIL:
		if (until)
			snprintf(buf, 40, "until:%s", iso_utc(until, iso));
		else
			snprintf(buf, 40, "until");
		break;
	default:
		snprintf(buf, 40, "none");
	}
	return buf;
}

/* ------------------------------------------------------------ templates */

void
cn_template_init(struct cn_template *t)
{
	memset(t, 0, sizeof(*t));
}

void
cn_template_free(struct cn_template *t)
{
	if (!t)
		return;
	free(t->folder);
	free(t->title);
	free(t->body);
	free(t->context);
	free(t->created_by);
	for (size_t i = 0; i < t->nusers; i++)
		free(t->users[i]);
	free(t->users);
	memset(t, 0, sizeof(*t));
}

void
cn_template_spec_init(struct cn_template_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->active = -1;
	s->is_default = -1;
	s->scope = -1;
	s->reply = -1;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? strdup(v) : NULL;
}

#define TPL_SELECT                                                           \
	"SELECT t.id, t.uuid, f.name, t.title, t.body, t.active, t.context, " \
	"t.is_default, t.scope, t.reply_mode, t.reply_hours, t.reply_until, " \
	"u.name, t.created_at, t.updated_at FROM template t LEFT JOIN folder " \
	"f ON f.id = t.folder_id LEFT JOIN user u ON u.id = t.created_by "

static int
load_users(sqlite3 *db, struct cn_template *t, struct cn_err *err)
{
	sqlite3_stmt *s;
	size_t alloc = 0;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT u.name FROM template_user tu JOIN user "
			       "u ON u.id = tu.user_id WHERE tu.template_id = "
			       "?1 ORDER BY u.name", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, t->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (t->nusers == alloc) {
			size_t na = alloc ? alloc * 2 : 4;
			char **p = realloc(t->users, na * sizeof(*p));

			if (!p)
				goto oom;
			t->users = p;
			alloc = na;
		}
		if (!(t->users[t->nusers] = col_dup(s, 0)))
			goto oom;
		t->nusers++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
oom:
	sqlite3_finalize(s);
	return cn_err_set(err, CN_EINTERNAL, "out of memory");
}

/* Fills t from a row of TPL_SELECT. */
static int
load_row(sqlite3 *db, sqlite3_stmt *s, struct cn_template *t,
	 struct cn_err *err)
{
	const char *v;

	cn_template_init(t);
	t->id = sqlite3_column_int64(s, 0);
	v = (const char *)sqlite3_column_text(s, 1);
	snprintf(t->uuid, sizeof(t->uuid), "%s", v ? v : "");
	t->folder = col_dup(s, 2);
	t->title = col_dup(s, 3);
	t->body = col_dup(s, 4);
	t->active = sqlite3_column_int(s, 5) != 0;
	t->context = col_dup(s, 6);
	t->is_default = sqlite3_column_int(s, 7) != 0;
	v = (const char *)sqlite3_column_text(s, 8);
	if (!v || cn_tpl_scope_parse(v, &t->scope) < 0)
		t->scope = CN_SCOPE_FOLDER;
	v = (const char *)sqlite3_column_text(s, 9);
	t->reply = !v ? CN_REPLY_NONE
	    : strcmp(v, "hours") == 0 ? CN_REPLY_HOURS
	    : strcmp(v, "until") == 0 ? CN_REPLY_UNTIL
				      : CN_REPLY_NONE;
	t->reply_hours = sqlite3_column_int64(s, 10);
	t->reply_until = sqlite3_column_int64(s, 11);
	t->created_by = col_dup(s, 12);
	t->created_at = sqlite3_column_int64(s, 13);
	t->updated_at = sqlite3_column_int64(s, 14);
	if (!t->title || !t->body) {
		cn_template_free(t);
		return cn_err_set(err, CN_EINTERNAL, "out of memory");
	}
	if (load_users(db, t, err) < 0) {
		cn_template_free(t);
		return -1;
	}
	return 0;
}

int
cn_template_get(struct cn_store *st, int64_t id, struct cn_template *out,
		struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc, r = -1;

	cn_template_init(out);
	if (sqlite3_prepare_v2(db, TPL_SELECT "WHERE t.id = ?1", -1, &s,
			       NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = load_row(db, s, out, err);
	else if (rc == SQLITE_DONE)
		cn_err_set(err, CN_ENOINPUT, "no template %lld", (long long)id);
	else
		cn_sql_fail(err, db, "store");
	sqlite3_finalize(s);
	return r;
}

/* ---------------------------------------------------------- saving */

static int
begin(sqlite3 *db, struct cn_err *err)
{
	return cn_sql_exec(db, "BEGIN IMMEDIATE", err);
}

/* Commits, or rolls back when dry; returns 0 or -1 (rolled back). */
static int
finish(sqlite3 *db, int dry, struct cn_err *err)
{
	if (dry) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if (cn_sql_exec(db, "COMMIT", err) < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Marks template uuid as changed (or deleted) for sync; keeps its
 * revision, which the next push needs. */
static int
sync_mark(sqlite3 *db, const char *uuid, int64_t now, int deleted,
	  struct cn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO sync_item(kind, uuid, state, "
			       "changed_at, deleted) VALUES('template', ?1, "
			       "'pending', ?2, ?3) ON CONFLICT(kind, uuid) DO "
			       "UPDATE SET state = 'pending', changed_at = "
			       "excluded.changed_at, deleted = "
			       "excluded.deleted", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, deleted);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : cn_sql_fail(err, db, "store");
}

/* Runs a statement with integer and text parameters given as a format:
 * 'i' int64, 's' text (NULL binds NULL), 'n' NULL.  Returns 0 or -1. */
static int
run(sqlite3 *db, const char *sql, struct cn_err *err, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc, i = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		if (*f == 'i') {
			sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
		} else if (*f == 's') {
			const char *v = va_arg(ap, const char *);

			if (v)
				sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(s, i);
		} else {
			sqlite3_bind_null(s, i);
		}
	}
	va_end(ap);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW
		       ? 0
		       : cn_sql_fail(err, db, "store");
}

/* The attribute columns of the lists of folder_id (every folder if 0),
 * as a NULL-terminated array (caller frees with free_names). */
static char **
known_fields(sqlite3 *db, int64_t folder_id, size_t *n, struct cn_err *err)
{
	sqlite3_stmt *s;
	char **v = NULL;
	size_t alloc = 0;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT DISTINCT j.value FROM list l, json_each("
			       "CASE WHEN json_valid(l.fields) THEN l.fields "
			       "ELSE '[]' END) j WHERE j.type = 'text' AND "
			       "(?1 = 0 OR l.folder_id = ?1) ORDER BY 1", -1,
			       &s, NULL)) {
		cn_sql_fail(err, db, "store");
		return NULL;
	}
	sqlite3_bind_int64(s, 1, folder_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n + 1 >= alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			char **p = realloc(v, na * sizeof(*p));

			if (!p)
				goto oom;
			v = p;
			alloc = na;
		}
		if (!(v[*n] = col_dup(s, 0)))
			goto oom;
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		cn_sql_fail(err, db, "store");
		goto fail;
	}
	if (!v && !(v = calloc(1, sizeof(*v)))) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		return NULL;
	}
	v[*n] = NULL;
	return v;
oom:
	sqlite3_finalize(s);
	cn_err_set(err, CN_EINTERNAL, "out of memory");
fail:
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static void
free_names(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Compiles body and checks its fields against those of folder_id. */
static int
check_body(sqlite3 *db, const char *body, int64_t folder_id,
	   struct cn_err *err)
{
	struct cn_tpl t;
	char **known;
	size_t n;
	int rc;

	if (!body[strspn(body, " \t\r\n")])
		return cn_err_set(err, CN_EDATA, "empty body");
	/* U+FEFF inside a text: invisible, and it makes the SMS UCS-2 */
	if (strstr(body, "\xef\xbb\xbf"))
		return cn_err_set(err, CN_EDATA,
				  "byte order mark inside the body (at byte "
				  "%zu)", (size_t)(strstr(body, "\xef\xbb\xbf") -
						   body) + 1);
	if (strlen(body) > CN_TPL_BODY_MAX)
		return cn_err_set(err, CN_EDATA,
				  "body is %zu bytes long (at most %d)",
				  strlen(body), CN_TPL_BODY_MAX);
	if (cn_tpl_parse(&t, body, strlen(body), err) < 0)
		return -1;
	known = known_fields(db, folder_id, &n, err);
	if (!known) {
		cn_tpl_free(&t);
		return -1;
	}
	rc = cn_tpl_check(&t, (const char *const *)known, n, err);
	free_names(known, n);
	cn_tpl_free(&t);
	return rc;
}

static int
check_title(const char *title, struct cn_err *err)
{
	size_t bad, n;

	if (!title || !*title)
		return cn_err_set(err, CN_EDATA, "empty title");
	if (!cn_utf8_valid(title, strlen(title), &bad))
		return cn_err_set(err, CN_EDATA, "title is not valid UTF-8");
	if (has_control(title))
		return cn_err_set(err, CN_EDATA,
				  "title holds a line break or a control "
				  "character");
	n = u8chars(title, strlen(title));
	if (n > CN_TPL_TITLE_MAX)
		return cn_err_set(err, CN_EDATA,
				  "title is %zu characters long (at most %d)",
				  n, CN_TPL_TITLE_MAX);
	return 0;
}

static int
check_context(const char *context, struct cn_err *err)
{
	size_t bad, n;

	if (!context)
		return 0;
	if (!cn_utf8_valid(context, strlen(context), &bad))
		return cn_err_set(err, CN_EDATA, "context is not valid UTF-8");
	if (has_control(context))
		return cn_err_set(err, CN_EDATA,
				  "context holds a line break or a control "
				  "character");
	n = u8chars(context, strlen(context));
	if (n > CONTEXT_MAX)
		return cn_err_set(err, CN_EDATA,
				  "context is %zu characters long (at most "
				  "%d)", n, CONTEXT_MAX);
	return 0;
}

/* The template as it will be once saved. */
struct state {
	const char *title, *body, *context;
	int active, is_default;
	enum cn_tpl_scope scope;
	int64_t folder_id;	/* 0 for common */
	const char *folder;	/* its name, for messages */
	const char *const *users;	/* when users_set */
	size_t nusers;
	int users_set;
	enum cn_tpl_reply reply;
	int64_t hours, until;
};

static int64_t
folder_lookup(sqlite3 *db, const char *name, struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id FROM folder WHERE name = ?1", -1,
			       &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return id;
}

/* Another template with this title in the same folder (0 if none). */
static int64_t
same_title(sqlite3 *db, const char *title, int64_t folder_id, int64_t self,
	   struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT id FROM template WHERE title = ?1 AND "
			       "coalesce(folder_id, 0) = ?2 AND id <> ?3 "
			       "LIMIT 1", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, title, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, folder_id);
	sqlite3_bind_int64(s, 3, self);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return id;
}

/* The current default of the same context, scope and folder as the
 * template self, other than self (0 if none). */
static int64_t
other_default(sqlite3 *db, const struct state *w, int64_t self,
	      struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "SELECT id FROM template WHERE is_default AND "
			       "context = ?1 AND scope = ?2 AND "
			       "coalesce(folder_id, 0) = ?3 AND id <> ?4 "
			       "ORDER BY id LIMIT 1", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, w->context, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cn_tpl_scope_name(w->scope), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, w->folder_id);
	sqlite3_bind_int64(s, 4, self);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return id;
}

static int
clear_default(sqlite3 *db, int64_t id, int64_t now, struct cn_err *err)
{
	sqlite3_stmt *s;
	char uuid[37] = "";
	int rc;

	if (run(db, "UPDATE template SET is_default = 0, updated_at = ?2 "
		    "WHERE id = ?1", err, "ii", id, now) < 0)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT uuid FROM template WHERE id = ?1",
			       -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(uuid, sizeof(uuid), "%s",
			 (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return cn_sql_fail(err, db, "store");
	return sync_mark(db, uuid, now, 0, err);
}

static int
set_users(struct cn_store *st, int64_t id, const struct state *w,
	  struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);

	if (run(db, "DELETE FROM template_user WHERE template_id = ?1", err,
		"i", id) < 0)
		return -1;
	for (size_t i = 0; w->scope == CN_SCOPE_USERS && i < w->nusers; i++) {
		int64_t uid = cn_user_id(st, w->users[i], err);

		if (!uid)
			return -1;
		if (run(db, "INSERT OR IGNORE INTO template_user(template_id, "
			    "user_id) VALUES(?1, ?2)", err, "ii", id, uid) < 0)
			return -1;
	}
	return 0;
}

/*
 * Checks the state w and writes it: a new template (id 0; uuid, user) or
 * template id.  A transaction is open.  check_fields: compile and check
 * the body.  Returns the template's id, or -1 with err.
 */
static int64_t
save(struct cn_store *st, int64_t id, const struct state *w,
     const char *uuid, const char *user, int check_fields,
     int64_t *prev_default, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	int64_t now = cn_now(), other;
	char newuuid[37];

	if (prev_default)
		*prev_default = 0;
	if (check_title(w->title, err) < 0 || check_context(w->context, err))
		return -1;
	if (w->is_default && !w->context)
		return cn_err_set(err, CN_EUSAGE,
				  "a default template needs a context (the "
				  "default of which context?)");
	if (w->scope == CN_SCOPE_USERS && w->users_set && !w->nusers)
		return cn_err_set(err, CN_EUSAGE,
				  "scope users needs at least one user");
	if (w->scope != CN_SCOPE_USERS && w->users_set && w->nusers)
		return cn_err_set(err, CN_EUSAGE,
				  "users are listed only for scope users "
				  "(this template's scope is %s)",
				  cn_tpl_scope_name(w->scope));
	if (w->reply == CN_REPLY_HOURS &&
	    (w->hours < 1 || w->hours > CN_REPLY_HOURS_MAX))
		return cn_err_set(err, CN_EDATA,
				  "reply hours must be from 1 to %d",
				  CN_REPLY_HOURS_MAX);
	if (check_fields && check_body(db, w->body, w->folder_id, err) < 0)
		return -1;
	other = same_title(db, w->title, w->folder_id, id, err);
	if (other < 0)
		return -1;
	if (other) {
		if (w->folder_id)
			return cn_err_set(err, CN_EDATA,
					  "title '%s' is already used in "
					  "folder '%s' (template %lld)",
					  w->title, w->folder,
					  (long long)other);
		return cn_err_set(err, CN_EDATA,
				  "title '%s' is already used by a common "
				  "template (template %lld)", w->title,
				  (long long)other);
	}
	if (id == 0) {
		int64_t uid = cn_user_id(st, user && *user ? user : "carnet",
					 err);

		if (!uid)
			return -1;
		if (!uuid) {
			cn_uuid7(newuuid);
			uuid = newuuid;
		}
		if (run(db,
			"INSERT INTO template(uuid, folder_id, title, body, "
			"active, context, is_default, scope, reply_mode, "
			"reply_hours, reply_until, created_by, created_at, "
			"updated_at) VALUES(?1, nullif(?2, 0), ?3, ?4, ?5, ?6, "
			"?7, ?8, ?9, nullif(?10, 0), nullif(?11, 0), ?12, ?13, "
			"?13)",
			err, "sissisissiiii", uuid, w->folder_id, w->title,
			w->body, (int64_t)w->active, w->context,
			(int64_t)w->is_default, cn_tpl_scope_name(w->scope),
			reply_mode_name(w->reply),
			w->reply == CN_REPLY_HOURS ? w->hours : 0,
			w->reply == CN_REPLY_UNTIL ? w->until : 0, uid,
			now) < 0)
			return -1;
		id = sqlite3_last_insert_rowid(db);
	} else {
		if (run(db,
			"UPDATE template SET folder_id = nullif(?2, 0), title "
			"= ?3, body = ?4, active = ?5, context = ?6, "
			"is_default = ?7, scope = ?8, reply_mode = ?9, "
			"reply_hours = nullif(?10, 0), reply_until = "
			"nullif(?11, 0), updated_at = ?12 WHERE id = ?1",
			err, "iissisissiii", id, w->folder_id, w->title,
			w->body, (int64_t)w->active, w->context,
			(int64_t)w->is_default, cn_tpl_scope_name(w->scope),
			reply_mode_name(w->reply),
			w->reply == CN_REPLY_HOURS ? w->hours : 0,
			w->reply == CN_REPLY_UNTIL ? w->until : 0, now) < 0)
			return -1;
	}
	if ((w->users_set || w->scope != CN_SCOPE_USERS) &&
	    set_users(st, id, w, err) < 0)
		return -1;
	if (w->scope == CN_SCOPE_USERS && !w->users_set) {
		sqlite3_stmt *s;
		int rc, n = 0;

		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM template_user"
				       " WHERE template_id = ?1", -1, &s, NULL))
			return cn_sql_fail(err, db, "store");
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			n = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW)
			return cn_sql_fail(err, db, "store");
		if (n == 0)
			return cn_err_set(err, CN_EUSAGE,
					  "scope users needs at least one "
					  "user");
	}
	if (w->is_default) {
		other = other_default(db, w, id, err);
		if (other < 0 || (other && clear_default(db, other, now, err)))
			return -1;
		if (prev_default)
			*prev_default = other;
	}
	{
		sqlite3_stmt *s;
		char u[37] = "";
		int rc;

		if (sqlite3_prepare_v2(db, "SELECT uuid FROM template WHERE "
				       "id = ?1", -1, &s, NULL))
			return cn_sql_fail(err, db, "store");
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			snprintf(u, sizeof(u), "%s",
				 (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW)
			return cn_sql_fail(err, db, "store");
		if (sync_mark(db, u, now, 0, err) < 0)
			return -1;
	}
	return id;
}

/* Fills the folder of w from scope and folder name (created if needed). */
static int
state_folder(struct cn_store *st, struct state *w, const char *folder,
	     struct cn_err *err)
{
	if (w->scope == CN_SCOPE_COMMON) {
		w->folder_id = 0;
		w->folder = NULL;
		return 0;
	}
	if (!folder || !*folder)
		return cn_err_set(err, CN_EUSAGE, "no folder for scope %s",
				  cn_tpl_scope_name(w->scope));
	w->folder_id = cn_folder_id(st, folder, 1, err);
	w->folder = folder;
	return w->folder_id ? 0 : -1;
}

int64_t
cn_template_add(struct cn_store *st, const struct cn_template_spec *s,
		const char *user, int64_t *prev_default, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct state w;
	int64_t id;

	if (prev_default)
		*prev_default = 0;
	if (!s->title)
		return cn_err_set(err, CN_EUSAGE, "a template needs a title");
	if (!s->body)
		return cn_err_set(err, CN_EUSAGE, "a template needs a body");
	memset(&w, 0, sizeof(w));
	w.title = s->title;
	w.body = s->body;
	w.context = s->context && *s->context ? s->context : NULL;
	w.active = s->active < 0 ? 1 : s->active != 0;
	w.is_default = s->is_default > 0;
	w.scope = s->scope < 0 ? CN_SCOPE_FOLDER : (enum cn_tpl_scope)s->scope;
	w.users = s->users;
	w.nusers = s->nusers;
	w.users_set = 1;
	if (w.scope == CN_SCOPE_USERS && !s->users)
		return cn_err_set(err, CN_EUSAGE,
				  "scope users needs at least one user");
	w.reply = s->reply < 0 ? CN_REPLY_NONE : (enum cn_tpl_reply)s->reply;
	w.hours = s->reply_hours;
	w.until = s->reply_until;
	if (begin(db, err) < 0)
		return -1;
	if (state_folder(st, &w, s->folder, err) < 0 ||
	    (id = save(st, 0, &w, s->uuid, user, 1, prev_default, err)) < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (finish(db, s->dry_run, err) < 0)
		return -1;
	return id;
}

/* The state of cur changed by s.  Sets *check when the body must be
 * checked again. */
static int
state_edit(struct cn_store *st, const struct cn_template *cur,
	   const struct cn_template_spec *s, struct state *w, int *check,
	   struct cn_err *err)
{
	memset(w, 0, sizeof(*w));
	*check = 0;
	w->title = s->title ? s->title : cur->title;
	w->body = s->body ? s->body : cur->body;
	if (s->body && strcmp(s->body, cur->body) != 0)
		*check = 1;
	w->context = s->context ? (*s->context ? s->context : NULL)
				: cur->context;
	w->active = s->active < 0 ? cur->active : s->active != 0;
	w->is_default = s->is_default < 0 ? cur->is_default
					  : s->is_default != 0;
	w->reply = s->reply < 0 ? cur->reply : (enum cn_tpl_reply)s->reply;
	w->hours = s->reply < 0 ? cur->reply_hours : s->reply_hours;
	w->until = s->reply < 0 ? cur->reply_until : s->reply_until;
	w->users = s->users;
	w->nusers = s->nusers;
	w->users_set = s->users != NULL;
	if (s->scope >= 0) {
		w->scope = (enum cn_tpl_scope)s->scope;
		if (state_folder(st, w, s->folder, err) < 0)
			return -1;
		if (w->scope != cur->scope ||
		    (w->folder && (!cur->folder ||
				   strcmp(w->folder, cur->folder) != 0)))
			*check = 1;
	} else {
		sqlite3 *db = cn_store_db(st);

		w->scope = cur->scope;
		w->folder = cur->folder;
		w->folder_id = cur->folder ? folder_lookup(db, cur->folder, err)
					   : 0;
		if (w->folder_id < 0)
			return -1;
	}
	return 0;
}

int
cn_template_edit(struct cn_store *st, int64_t id,
		 const struct cn_template_spec *s, int64_t *prev_default,
		 struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct cn_template cur;
	struct state w;
	int check, rc = -1;

	if (prev_default)
		*prev_default = 0;
	cn_template_init(&cur);
	if (begin(db, err) < 0)
		return -1;
	if (cn_template_get(st, id, &cur, err) < 0 ||
	    state_edit(st, &cur, s, &w, &check, err) < 0 ||
	    save(st, id, &w, NULL, NULL, check, prev_default, err) < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	rc = finish(db, s->dry_run, err);
out:
	cn_template_free(&cur);
	return rc;
}

int
cn_template_delete(struct cn_store *st, int64_t id, int dry_run,
		   struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	struct cn_template cur;

	if (begin(db, err) < 0)
		return -1;
	if (cn_template_get(st, id, &cur, err) < 0)
		goto fail;
	if (run(db, "DELETE FROM template WHERE id = ?1", err, "i", id) < 0 ||
	    sync_mark(db, cur.uuid, cn_now(), 1, err) < 0) {
		cn_template_free(&cur);
		goto fail;
	}
	cn_template_free(&cur);
	return finish(db, dry_run, err);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* ------------------------------------------------------------- lookups */

/* 1 if user is listed by t. */
static int
lists_user(const struct cn_template *t, const char *user)
{
	for (size_t i = 0; user && i < t->nusers; i++)
		if (strcmp(t->users[i], user) == 0)
			return 1;
	return 0;
}

/* Why t cannot be used (flags) by user in folder, or NULL if it can. */
static const char *
unusable(const struct cn_template *t, const char *folder, const char *user,
	 unsigned flags)
{
	if ((flags & CN_TPL_FIND_USABLE) && t->folder && folder &&
	    strcmp(t->folder, folder) != 0)
		return "folder";
	if ((flags & CN_TPL_FIND_USABLE) && t->scope == CN_SCOPE_USERS &&
	    !lists_user(t, user))
		return "user";
	if ((flags & CN_TPL_FIND_ACTIVE) && !t->active)
		return "inactive";
	return NULL;
}

static int
unusable_err(const struct cn_template *t, const char *why, const char *key,
	     const char *folder, const char *user, struct cn_err *err)
{
	if (strcmp(why, "inactive") == 0)
		return cn_err_set(err, CN_ENOINPUT,
				  "template '%s' is inactive", key);
	if (strcmp(why, "user") == 0)
		return cn_err_set(err, CN_ENOINPUT,
				  "template '%s' is not available to user "
				  "'%s'", key, user ? user : "");
	return cn_err_set(err, CN_ENOINPUT,
			  "template '%s' belongs to folder '%s', not '%s'",
			  key, t->folder, folder);
}

static int
all_digits(const char *s)
{
	if (!*s || strlen(s) > 18)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int
uuid_like(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* The id of the template whose uuid is u (0 if none, -1 on error). */
static int64_t
id_by_uuid(sqlite3 *db, const char *u, struct cn_err *err)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id FROM template WHERE uuid = "
			       "lower(?1)", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, u, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return id;
}

int
cn_template_find(struct cn_store *st, const char *key, const char *folder,
		 const char *user, unsigned flags, struct cn_template *out,
		 struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int64_t id = 0;
	const char *why;
	int rc;

	cn_template_init(out);
	if (!key || !*key)
		return cn_err_set(err, CN_EUSAGE, "no template named");
	if (all_digits(key) || uuid_like(key)) {
		id = all_digits(key) ? strtoll(key, NULL, 10)
				     : id_by_uuid(db, key, err);
		if (id < 0)
			return -1;
		if (id > 0 && cn_template_get(st, id, out, err) == 0)
			goto found;
		if (id > 0 && err && err->code != CN_ENOINPUT)
			return -1;
		/* a title may look like a number: go on with titles */
	}
	{
		/* by title: the folder's first, then the common one */
		struct cn_template cand[2];
		struct cn_buf ids;
		int n = 0, total = 0, pick = -1;

		if (sqlite3_prepare_v2(db,
				       TPL_SELECT "WHERE t.title = ?1 AND (?2 "
				       "IS NULL OR t.folder_id IS NULL OR "
				       "t.folder_id = (SELECT id FROM folder "
				       "WHERE name = ?2)) ORDER BY t.folder_id "
				       "IS NULL, t.id", -1, &s, NULL))
			return cn_sql_fail(err, db, "store");
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		if (folder)
			sqlite3_bind_text(s, 2, folder, -1, SQLITE_STATIC);
		cn_buf_init(&ids, 0);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			cn_buf_addf(&ids, "%s%lld", total ? ", " : "",
				    (long long)sqlite3_column_int64(s, 0));
			if (n < 2) {
				if (load_row(db, s, &cand[n], err) < 0) {
					rc = -1;
					break;
				}
				n++;
			}
			total++;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			for (int i = 0; i < n; i++)
				cn_template_free(&cand[i]);
			cn_buf_free(&ids);
			return rc == -1 ? -1 : cn_sql_fail(err, db, "store");
		}
		if (total == 0) {
			cn_buf_free(&ids);
			return cn_err_set(err, CN_ENOINPUT,
					  folder ? "no template '%s' in folder "
						   "'%s' or among the common "
						   "ones"
						 : "no template '%s'",
					  key, folder);
		}
		if (!folder && total > 1) {
			cn_err_set(err, CN_EUSAGE,
				   "title '%s' names %d templates (ids %s); "
				   "use an id or --folder", key, total,
				   ids.ptr);
			for (int i = 0; i < n; i++)
				cn_template_free(&cand[i]);
			cn_buf_free(&ids);
			return -1;
		}
		cn_buf_free(&ids);
		for (int i = 0; i < n && pick < 0; i++)
			if (!unusable(&cand[i], folder, user, flags))
				pick = i;
		if (pick < 0)
			pick = 0;	/* report why the first is not */
		*out = cand[pick];
		for (int i = 0; i < n; i++)
			if (i != pick)
				cn_template_free(&cand[i]);
	}
found:
	why = unusable(out, folder, user, flags);
	if (why) {
		unusable_err(out, why, key, folder, user, err);
		cn_template_free(out);
		return -1;
	}
	return 0;
}

int
cn_template_default(struct cn_store *st, const char *context,
		    const char *folder, const char *user,
		    struct cn_template *out, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc, r = 0;

	cn_template_init(out);
	if (sqlite3_prepare_v2(db,
			       TPL_SELECT "WHERE t.active AND t.is_default AND"
			       " t.context = ?1 AND (t.folder_id IS NULL OR "
			       "t.folder_id = (SELECT id FROM folder WHERE "
			       "name = ?2)) AND (t.scope <> 'users' OR EXISTS "
			       "(SELECT 1 FROM template_user tu JOIN user uu "
			       "ON uu.id = tu.user_id WHERE tu.template_id = "
			       "t.id AND uu.name = ?3)) ORDER BY CASE t.scope "
			       "WHEN 'users' THEN 0 WHEN 'folder' THEN 1 ELSE "
			       "2 END, t.id LIMIT 1", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	sqlite3_bind_text(s, 1, context, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = load_row(db, s, out, err) < 0 ? -1 : 1;
	else if (rc != SQLITE_DONE)
		r = cn_sql_fail(err, db, "store");
	sqlite3_finalize(s);
	return r;
}

int
cn_templates_each(struct cn_store *st, const struct cn_template_filter *f,
		  cn_template_fn fn, void *ctx, struct cn_err *err)
{
	sqlite3 *db = cn_store_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       TPL_SELECT "WHERE (?1 IS NULL OR t.folder_id IS "
			       "NULL OR t.folder_id = (SELECT id FROM folder "
			       "WHERE name = ?1)) AND (?2 IS NULL OR t.context"
			       " = ?2) AND (?3 = 0 OR t.active) AND (?5 = 0 OR "
			       "NOT t.active) AND (?4 IS "
			       "NULL OR t.scope <> 'users' OR EXISTS (SELECT "
			       "1 FROM template_user tu JOIN user uu ON uu.id "
			       "= tu.user_id WHERE tu.template_id = t.id AND "
			       "uu.name = ?4)) ORDER BY t.context, t.title, "
			       "t.id", -1, &s, NULL))
		return cn_sql_fail(err, db, "store");
	if (f && f->folder)
		sqlite3_bind_text(s, 1, f->folder, -1, SQLITE_STATIC);
	if (f && f->context)
		sqlite3_bind_text(s, 2, f->context, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, f ? f->active_only : 0);
	sqlite3_bind_int(s, 5, f ? f->inactive_only : 0);
	if (f && f->user)
		sqlite3_bind_text(s, 4, f->user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct cn_template t;
		int stop;

		if (load_row(db, s, &t, err) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
		stop = fn(ctx, &t);
		cn_template_free(&t);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return cn_sql_fail(err, db, "store");
	return 0;
}

/* ------------------------------------------------------ export, import */

const char *const cn_template_columns[] = {
	"id",	  "uuid",  "folder", "title",	   "context",	 "active",
	"default", "scope", "users", "reply",	   "body",	 "created_by",
	"created_at", "updated_at",
};
const size_t cn_template_ncolumns =
	sizeof(cn_template_columns) / sizeof(cn_template_columns[0]);

static int
add_str(struct cn_record *r, const char *name, const char *v)
{
	return cn_record_add(r, name, v, v ? strlen(v) : 0,
			     v ? CN_V_STR : CN_V_NULL);
}

static int
add_bool(struct cn_record *r, const char *name, int v)
{
	return cn_record_add(r, name, v ? "true" : "false", v ? 4 : 5,
			     CN_V_BOOL);
}

int
cn_template_to_record(const struct cn_template *t, struct cn_record *r)
{
	const char *const *c = cn_template_columns;
	char num[24], reply[40], t1[21], t2[21];
	struct cn_buf users;
	int n = snprintf(num, sizeof(num), "%lld", (long long)t->id), rc = 0;

	cn_buf_init(&users, 0);
	for (size_t i = 0; i < t->nusers; i++)
		if (cn_buf_addf(&users, "%s%s", i ? "," : "", t->users[i]) < 0)
			rc = -1;
	cn_tpl_reply_format(t->reply, t->reply_hours, t->reply_until, reply);
	if (rc == 0 &&
	    (cn_record_add(r, c[0], num, (size_t)n, CN_V_NUM) < 0 ||
	     add_str(r, c[1], t->uuid) < 0 || add_str(r, c[2], t->folder) < 0 ||
	     add_str(r, c[3], t->title) < 0 ||
	     add_str(r, c[4], t->context) < 0 ||
	     add_bool(r, c[5], t->active) < 0 ||
	     add_bool(r, c[6], t->is_default) < 0 ||
	     add_str(r, c[7], cn_tpl_scope_name(t->scope)) < 0 ||
	     add_str(r, c[8], t->nusers ? users.ptr : NULL) < 0 ||
	     add_str(r, c[9], reply) < 0 || add_str(r, c[10], t->body) < 0 ||
	     add_str(r, c[11], t->created_by) < 0 ||
	     add_str(r, c[12], iso_utc(t->created_at, t1)) < 0 ||
	     add_str(r, c[13], iso_utc(t->updated_at, t2)) < 0))
		rc = -1;
	cn_buf_free(&users);
	return rc;
}

struct export_ctx {
	struct cn_writer *w;
	struct cn_record rec;
	struct cn_err *err;
	int64_t n;
	int failed;
};

static int
export_one(void *ctx, const struct cn_template *t)
{
	struct export_ctx *x = ctx;

	cn_record_reset(&x->rec);
	if (cn_template_to_record(t, &x->rec) < 0) {
		cn_err_set(x->err, CN_EINTERNAL, "out of memory");
		x->failed = 1;
	} else if (cn_writer_put(x->w, &x->rec, x->err) < 0) {
		x->failed = 1;
	} else {
		x->n++;
	}
	return x->failed;
}

int64_t
cn_templates_export(struct cn_store *st, const struct cn_template_filter *f,
		    FILE *out, enum cn_format fmt, const struct cn_csv_opts *csv,
		    struct cn_err *err)
{
	struct export_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.err = err;
	cn_record_init(&x.rec);
	x.w = cn_writer_open(out, fmt, cn_template_columns,
			     cn_template_ncolumns, csv, err);
	if (!x.w)
		return -1;
	rc = cn_templates_each(st, f, export_one, &x, err);
	cn_record_free(&x.rec);
	if (rc < 0 || x.failed) {
		cn_writer_close(x.w, NULL);
		return -1;
	}
	if (cn_writer_close(x.w, err) < 0)
		return -1;
	return x.n;
}

/* A text field of rec: NULL when absent, null or empty. */
static const char *
fstr(const struct cn_record *rec, const char *name)
{
	const struct cn_field *f = cn_record_get(rec, name);

	if (!f || !f->value || f->type == CN_V_NULL || !f->len)
		return NULL;
	return f->value;
}

/* Parses a boolean field; def when absent.  Returns 0 or -1. */
static int
fbool(const struct cn_record *rec, const char *name, int def, int *out)
{
	const char *v = fstr(rec, name);

	*out = def;
	if (!v)
		return 0;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
		 !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* The users of a record: "a,b" or a JSON array of names.  Fills a
 * NULL-terminated array (free with free_names) of *n names. */
static int
fusers(const struct cn_record *rec, char ***out, size_t *n,
       struct cn_buf *why)
{
	const struct cn_field *f = cn_record_get(rec, "users");
	char **v = NULL;
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	if (!f || !f->value || !f->len)
		return 0;
	if (f->type == CN_V_RAW) {
		cJSON *a = cJSON_ParseWithLength(f->value, f->len);
		const cJSON *it;

		if (!cJSON_IsArray(a)) {
			cJSON_Delete(a);
			cn_buf_adds(why, "users must be a list of names");
			return -1;
		}
		cJSON_ArrayForEach(it, a)
		{
			char *name;

			if (!cJSON_IsString(it) || !*it->valuestring) {
				cJSON_Delete(a);
				free_names(v, *n);
				cn_buf_adds(why, "users must be a list of "
					    "names");
				return -1;
			}
			if (*n + 1 >= alloc) {
				size_t na = alloc ? alloc * 2 : 8;
				char **p = realloc(v, na * sizeof(*p));

				if (!p)
					goto oom_json;
				v = p;
				alloc = na;
			}
			name = strdup(it->valuestring);
			if (!name)
				goto oom_json;
			v[(*n)++] = name;
			continue;
		oom_json:
			cJSON_Delete(a);
			free_names(v, *n);
			cn_buf_adds(why, "out of memory");
			return -1;
		}
		cJSON_Delete(a);
	} else {
		const char *p = f->value;

		while (*p) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			char *name = trimmed_dup(p, len);

			if (!name)
				goto oom;
			if (!*name)
				free(name);
			else {
				if (*n + 1 >= alloc) {
					size_t na = alloc ? alloc * 2 : 8;
					char **q = realloc(v, na * sizeof(*q));

					if (!q) {
						free(name);
						goto oom;
					}
					v = q;
					alloc = na;
				}
				v[(*n)++] = name;
			}
			p += len;
			if (*p == ',')
				p++;
		}
	}
	if (v)
		v[*n] = NULL;
	*out = v;
	return 0;
oom:
	free_names(v, *n);
	cn_buf_adds(why, "out of memory");
	return -1;
}

/* A template touched by this import, and the line that did it. */
struct seen {
	int64_t id;
	long line;
};

struct import {
	struct cn_store *st;
	sqlite3 *db;
	const char *folder, *user;
	struct seen *seen;
	size_t nseen, aseen;
	struct cn_buf why;
};

static long
seen_line(const struct import *im, int64_t id)
{
	for (size_t i = 0; i < im->nseen; i++)
		if (im->seen[i].id == id)
			return im->seen[i].line;
	return 0;
}

static int
seen_add(struct import *im, int64_t id, long line)
{
	if (im->nseen == im->aseen) {
		size_t na = im->aseen ? im->aseen * 2 : 16;
		struct seen *p = realloc(im->seen, na * sizeof(*p));

		if (!p)
			return -1;
		im->seen = p;
		im->aseen = na;
	}
	im->seen[im->nseen].id = id;
	im->seen[im->nseen].line = line;
	im->nseen++;
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* 1 if the state w is what template cur already holds. */
static int
unchanged(const struct cn_template *cur, const struct state *w)
{
	if (!same_str(cur->title, w->title) || !same_str(cur->body, w->body) ||
	    !same_str(cur->context, w->context) || cur->active != w->active ||
	    cur->is_default != w->is_default || cur->scope != w->scope ||
	    !same_str(cur->folder, w->scope == CN_SCOPE_COMMON ? NULL
							       : w->folder) ||
	    cur->reply != w->reply ||
	    (w->reply == CN_REPLY_HOURS && cur->reply_hours != w->hours) ||
	    (w->reply == CN_REPLY_UNTIL && cur->reply_until != w->until))
		return 0;
	if (w->scope != CN_SCOPE_USERS)
		return 1;
	if (cur->nusers != w->nusers)
		return 0;
	/* cur->users is sorted; w's may not be */
	for (size_t i = 0; i < w->nusers; i++)
		if (!lists_user(cur, w->users[i]))
			return 0;
	return 1;
}

enum { IMP_ADDED, IMP_UPDATED, IMP_UNCHANGED };

/*
 * Applies one record inside a savepoint.  Returns IMP_* or -1 with the
 * reason in im->why (the record is rejected), or -2 with err (fatal).
 */
static int
import_one(struct import *im, const struct cn_record *rec, struct cn_err *err)
{
	struct state w;
	struct cn_template cur;
	struct cn_err e;
	char **users = NULL;
	size_t nusers = 0;
	const char *v, *uuid, *folder;
	char low[37];
	enum cn_tpl_scope scope = CN_SCOPE_FOLDER;
	int64_t id = 0, other = 0, saved;
	int r = -1, check = 1;
	long line;

	cn_template_init(&cur);
	memset(&w, 0, sizeof(w));
	cn_buf_reset(&im->why);
	w.title = fstr(rec, "title");
	w.body = fstr(rec, "body");
	if (!w.title) {
		cn_buf_adds(&im->why, "no title");
		return -1;
	}
	if (!w.body) {
		cn_buf_adds(&im->why, "no body");
		return -1;
	}
	w.context = fstr(rec, "context");
	if (fbool(rec, "active", 1, &w.active) < 0) {
		cn_buf_addf(&im->why, "invalid active '%s' (true or false)",
			    fstr(rec, "active"));
		return -1;
	}
	if (fbool(rec, "default", 0, &w.is_default) < 0) {
		cn_buf_addf(&im->why, "invalid default '%s' (true or false)",
			    fstr(rec, "default"));
		return -1;
	}
	if ((v = fstr(rec, "scope")) && cn_tpl_scope_parse(v, &scope) < 0) {
		cn_buf_addf(&im->why, "invalid scope '%s' (common, folder, "
			    "users)", v);
		return -1;
	}
	w.scope = scope;
	if ((v = fstr(rec, "reply")) &&
	    cn_tpl_reply_parse(v, &w.reply, &w.hours, &w.until, &e) < 0) {
		cn_buf_adds(&im->why, e.msg);
		return -1;
	}
	uuid = fstr(rec, "uuid");
	if (uuid && !uuid_like(uuid)) {
		cn_buf_addf(&im->why, "invalid uuid '%s'", uuid);
		return -1;
	}
	if (fusers(rec, &users, &nusers, &im->why) < 0)
		return -1;
	w.users = (const char *const *)users;
	w.nusers = nusers;
	w.users_set = 1;
	if (scope == CN_SCOPE_USERS && !nusers) {
		cn_buf_adds(&im->why, "scope users needs at least one user");
		goto out;
	}
	folder = fstr(rec, "folder");
	if (!folder)
		folder = im->folder;
	if (cn_sql_exec(im->db, "SAVEPOINT cn_tpl_rec", err) < 0) {
		r = -2;
		goto out;
	}
	if (state_folder(im->st, &w, folder, &e) < 0)
		goto reject;
	/* match: uuid, else title in the same folder */
	if (uuid) {
		for (int i = 0; i < 37; i++)
			low[i] = (char)tolower((unsigned char)uuid[i]);
		id = id_by_uuid(im->db, low, &e);
		if (id < 0)
			goto reject;
		/* unknown here: the new template keeps the record's uuid */
		uuid = id ? NULL : low;
	}
	if (!id && !uuid) {
		id = same_title(im->db, w.title, w.folder_id, 0, &e);
		if (id < 0)
			goto reject;
	}
	line = id ? seen_line(im, id) : 0;
	if (line) {
		cn_buf_addf(&im->why, "the same template as line %ld", line);
		goto rollback;
	}
	if (id) {
		if (cn_template_get(im->st, id, &cur, &e) < 0)
			goto reject;
		if (unchanged(&cur, &w)) {
			r = IMP_UNCHANGED;
			goto done;
		}
		check = strcmp(cur.body, w.body) != 0 || cur.scope != w.scope ||
			!same_str(cur.folder, w.folder);
	}
	if (w.is_default && w.context) {
		other = other_default(im->db, &w, id, &e);
		if (other < 0)
			goto reject;
		if (other && (line = seen_line(im, other))) {
			cn_buf_addf(&im->why,
				    "the template of line %ld is already the "
				    "default for context '%s'", line,
				    w.context);
			goto rollback;
		}
	}
	saved = save(im->st, id, &w, uuid, im->user, check, NULL, &e);
	if (saved < 0)
		goto reject;
	r = id ? IMP_UPDATED : IMP_ADDED;
	id = saved;
done:
	if (cn_sql_exec(im->db, "RELEASE cn_tpl_rec", err) < 0) {
		r = -2;
		goto out;
	}
	if (seen_add(im, id, rec->line) < 0) {
		cn_err_set(err, CN_EINTERNAL, "out of memory");
		r = -2;
	}
	goto out;
reject:
	if (e.code != CN_EDATA && e.code != CN_EUSAGE &&
	    e.code != CN_ENOINPUT) {
		*err = e;
		sqlite3_exec(im->db, "ROLLBACK TO cn_tpl_rec; RELEASE cn_tpl_rec",
			     NULL, NULL, NULL);
		r = -2;
		goto out;
	}
	cn_buf_adds(&im->why, e.msg);
rollback:
	sqlite3_exec(im->db, "ROLLBACK TO cn_tpl_rec; RELEASE cn_tpl_rec", NULL,
		     NULL, NULL);
	r = -1;
out:
	cn_template_free(&cur);
	free_names(users, nusers);
	return r;
}

int
cn_templates_import(struct cn_store *st, struct cn_reader *rd,
		    const char *folder, const char *user, int dry_run,
		    cn_reject_fn on_reject, void *ctx,
		    struct cn_template_import_stats *stats, struct cn_err *err)
{
	struct import im;
	struct cn_record *rec;
	struct cn_err rowerr;
	int rc = -1;

	memset(stats, 0, sizeof(*stats));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.db = cn_store_db(st);
	im.folder = folder;
	im.user = user;
	cn_buf_init(&im.why, 0);
	{
		/* CSV: a header without a title is not a template export
		 * (a body piped to import instead of add, say) */
		size_t nh = 0, i = 0;
		const char *const *h = cn_reader_header(rd, &nh);

		while (h && i < nh && strcmp(h[i], "title") != 0)
			i++;
		if (h && i == nh) {
			cn_err_set(err, CN_EDATA, "%s:1: no 'title' column: "
				   "not a template export",
				   cn_reader_name(rd));
			goto out;
		}
	}
	if (begin(im.db, err) < 0)
		goto out;
	for (;;) {
		int r = cn_reader_next(rd, &rec, &rowerr);

		if (r == 0)
			break;
		if (r == -1) {
			*err = rowerr;
			goto rollback;
		}
		stats->records++;
		if (r == -2) {
			const char *m = strstr(rowerr.msg, ": ");

			stats->rejected++;
			if (on_reject)
				on_reject(ctx, rec, NULL, 0, rec ? rec->line : 0,
					  m ? m + 2 : rowerr.msg);
			continue;
		}
		r = import_one(&im, rec, err);
		if (r == -2)
			goto rollback;
		if (r == -1) {
			size_t rawlen;
			const char *raw = cn_reader_raw(rd, &rawlen);

			stats->rejected++;
			if (on_reject)
				on_reject(ctx, rec, raw, rawlen, rec->line,
					  im.why.ptr);
			continue;
		}
		if (r == IMP_ADDED)
			stats->added++;
		else if (r == IMP_UPDATED)
			stats->updated++;
		else
			stats->unchanged++;
	}
	if (stats->rejected)	/* nothing is applied: the counts say so */
		stats->added = stats->updated = stats->unchanged = 0;
	if (dry_run || stats->rejected) {
		sqlite3_exec(im.db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		if (cn_sql_exec(im.db, "COMMIT", err) < 0)
			goto rollback;
		stats->committed = 1;
	}
	rc = 0;
	goto out;
rollback:
	sqlite3_exec(im.db, "ROLLBACK", NULL, NULL, NULL);
out:
	free(im.seen);
	cn_buf_free(&im.why);
	return rc;
}
