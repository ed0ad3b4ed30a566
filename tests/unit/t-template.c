/*
 * t-template.c - unit tests of the merge-field parser and renderer of
 * lib/template.c, and of reply handling and scope names.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carnet.h"
#include "tap.h"

/* ------------------------------------------------------------- parsing */

/* s with line breaks and control bytes escaped, for test names (one of
 * two static buffers, so that two can be used in one call). */
static const char *
printable(const char *s)
{
	static char bufs[2][200];
	static int which;
	char *b = bufs[which ^= 1];
	size_t n = 0;

	for (; *s && n + 5 < sizeof(bufs[0]); s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			n += (size_t)snprintf(b + n, 5, "\\n");
		else if (c == '\r')
			n += (size_t)snprintf(b + n, 5, "\\r");
		else if (c < 0x20 || c == 0x7f || c == 0xff)
			n += (size_t)snprintf(b + n, 5, "\\x%02x", c);
		else
			b[n++] = (char)c;
	}
	b[n] = '\0';
	return b;
}

/* Parses s; on success renders it against no record with every field
 * defaulted to "<name>", so that the literal text shows. */
static int
parse(const char *s, struct cn_tpl *t, struct cn_err *err)
{
	return cn_tpl_parse(t, s, strlen(s), err);
}

struct parse_case {
	const char *body;
	const char *lit;	/* the text with fields as [name] */
};

/* The literal text of t with each field written [name] or [name|def]. */
static void
show(const struct cn_tpl *t, struct cn_buf *b)
{
	cn_buf_reset(b);
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cn_tpl_field *f = &t->fields[i];

		cn_buf_add(b, t->lit + f->lit_off, f->lit_len);
		if (f->def)
			cn_buf_addf(b, "[%s|%s]", f->name, f->def);
		else
			cn_buf_addf(b, "[%s]", f->name);
	}
	cn_buf_add(b, t->lit + t->tail_off, t->tail_len);
}

static const struct parse_case good[] = {
	{"", ""},
	{"plain text", "plain text"},
	{"Bonjour {{first_name}}", "Bonjour [first_name]"},
	{"{{ first_name }}!", "[first_name]!"},
	{"{{\tfirst_name\t}}", "[first_name]"},
	{"{{first_name|there}}", "[first_name|there]"},
	{"{{ first_name | dear customer }}", "[first_name|dear customer]"},
	{"{{first_name|}}", "[first_name|]"},
	{"{{x|a|b}}", "[x|a|b]"},
	{"{{Code client}}", "[Code client]"},
	{"{{Prénom}} à {{ville}}", "[Prénom] à [ville]"},
	{"{{{{", "{{"},
	{"}}}}", "}}"},
	{"{{{{first_name}}}}", "{{first_name}}"},
	{"a { b } c {x} }{", "a { b } c {x} }{"},
	{"{{a}}}", "[a]}"},
	{"{{a}}{{b}}", "[a][b]"},
	{"line 1\n{{a}}\r\nline 3", "line 1\n[a]\r\nline 3"},
	{"{{{{{{a}}}}}}", "{{[a]}}"},
	{"€ {{a|€}} €", "€ [a|€] €"},
};

struct bad_case {
	const char *body;
	size_t len;		/* 0: strlen */
	const char *msg;
};

static const struct bad_case bad[] = {
	{"Hello, you {{foo", 0, "unclosed '{{' at line 1, column 12"},
	{"line one\nline {{two\n}}", 0, "unclosed '{{' at line 2, column 6"},
	{"a}}b", 0, "unmatched '}}' at line 1, column 2"},
	{"}}}}}}", 0, "unmatched '}}' at line 1, column 5"},
	{"{{}}", 0, "empty merge field name at line 1, column 1"},
	{"x {{   }}", 0, "empty merge field name at line 1, column 3"},
	{"{{ |default}}", 0, "empty merge field name at line 1, column 1"},
	{"{{a{b}}", 0, "'{' inside a merge field at line 1, column 4"},
	{"{{{x}}}", 0, "'{' inside a merge field at line 1, column 3"},
	{"{{a}b}}", 0, "'}' inside a merge field at line 1, column 4"},
	{"{{a|x}y}}", 0, "'}' inside a merge field at line 1, column 6"},
	{"Élodie, ça {{va", 0, "unclosed '{{' at line 1, column 12"},
	{"\xc3\xa9\nab {{x\x01}}", 0,
	 "control character inside a merge field at line 2, column 7"},
	{"ok\n\xff", 0, "invalid UTF-8 at line 2, column 1"},
	{"ab\0cd", 5, "NUL byte at line 1, column 3"},
};

static void
test_parse(void)
{
	struct cn_buf b;

	cn_buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct cn_tpl t;
		struct cn_err err;
		int rc = parse(good[i].body, &t, &err);

		ok(rc == 0, "parses '%s'", printable(good[i].body));
		if (rc == 0) {
			show(&t, &b);
			is_str(b.ptr, good[i].lit, "  as '%s'",
			       printable(good[i].lit));
		} else {
			printf("#   %s\n", err.msg);
		}
		cn_tpl_free(&t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cn_tpl t;
		struct cn_err err;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].body);
		int rc = cn_tpl_parse(&t, bad[i].body, len, &err);

		ok(rc == -1 && err.code == CN_EDATA, "rejects '%s'",
		   printable(bad[i].body));
		if (rc != -1)
			err.msg[0] = '\0';
		is_str(err.msg, bad[i].msg, "  with the message that says "
		       "where");
		ok(t.nfields == 0 && t.fields == NULL && t.lit == NULL,
		   "  and leaves the template empty");
		cn_tpl_free(&t);
	}
	cn_buf_free(&b);
}

static void
test_fields(void)
{
	struct cn_tpl t;
	struct cn_err err;
	const char *s = "Bonjour {{first_name}},\nle {{ date }} par "
			"{{sender|nous}} à {{Ville|}}";

	ok(parse(s, &t, &err) == 0, "a body with four fields parses");
	is_int(t.nfields, 4, "four fields");
	is_str(t.fields[0].name, "first_name", "field 1 is first_name");
	is_int(t.fields[0].line, 1, "  on line 1");
	is_int(t.fields[0].column, 9, "  column 9");
	ok(t.fields[0].def == NULL, "  without a default");
	is_int(t.fields[0].kind, CN_TPL_RECORD, "  from the record");
	is_str(t.fields[1].name, "date", "field 2 is date");
	is_int(t.fields[1].kind, CN_TPL_DATE, "  a send-time field");
	is_int(t.fields[1].line, 2, "  on line 2");
	is_int(t.fields[1].column, 4, "  column 4");
	is_int(t.fields[2].kind, CN_TPL_SENDER, "field 3 is the sender");
	is_str(t.fields[2].def, "nous", "  with its default");
	is_int(t.fields[2].column, 19, "  column 19 (characters)");
	is_str(t.fields[3].def, "", "field 4 has an empty default");
	is_int(t.fields[3].column, 37, "  column 37, counting à as one");
	cn_tpl_free(&t);
	cn_tpl_free(&t);
	ok(1, "cn_tpl_free twice is harmless");
}

/* ------------------------------------------------------------- checking */

static void
test_check(void)
{
	static const char *const known[] = {"Ville", "Code client"};
	struct cn_tpl t;
	struct cn_err err;

	parse("{{first_name}} {{last_name}} {{phone}} {{email}} {{sender}} "
	      "{{date}} {{Ville}} {{ Code client }}", &t, &err);
	ok(cn_tpl_check(&t, known, 2, &err) == 0,
	   "core, send-time and attribute fields are known");
	cn_tpl_free(&t);

	parse("Hello, you {{foo}}", &t, &err);
	ok(cn_tpl_check(&t, known, 2, &err) == -1 && err.code == CN_EDATA,
	   "an unknown field is an error");
	is_str(err.msg, "unknown merge field 'foo' at line 1, column 12 "
	       "(known: first_name, last_name, phone, email, sender, date, "
	       "Ville, Code client)", "which names it, its place and the "
	       "known ones");
	cn_tpl_free(&t);

	parse("{{First_name}}", &t, &err);
	ok(cn_tpl_check(&t, NULL, 0, &err) == -1,
	   "names are compared exactly (First_name is not first_name)");
	cn_tpl_free(&t);

	parse("ok\n  {{ville|Paris}}", &t, &err);
	ok(cn_tpl_check(&t, known, 2, &err) == -1,
	   "a default does not make an unknown field known");
	is_str(err.msg, "unknown merge field 'ville' at line 2, column 3 "
	       "(known: first_name, last_name, phone, email, sender, date, "
	       "Ville, Code client)", "  and the place is on line 2");
	cn_tpl_free(&t);
}

/* ------------------------------------------------------------ rendering */

#define NOW 1795334400	/* 2026-11-22T08:00:00Z */

static int
render(const char *body, const struct cn_record *r,
       const struct cn_tpl_env *env, struct cn_buf *out, struct cn_err *err)
{
	struct cn_tpl t;
	int rc;

	if (parse(body, &t, err) < 0)
		return -2;
	rc = cn_tpl_render(&t, r, env, out, err);
	cn_tpl_free(&t);
	return rc;
}

static void
test_render(void)
{
	struct cn_record r;
	struct cn_buf out;
	struct cn_err err;
	struct cn_tpl_env env = {"ACME", NOW};
	struct cn_tpl_env nosender = {NULL, NOW};

	cn_record_init(&r);
	cn_buf_init(&out, 0);
	cn_record_add(&r, "first_name", "Jérôme", strlen("Jérôme"), CN_V_STR);
	cn_record_add(&r, "last_name", "  Martin ", 9, CN_V_STR);
	cn_record_add(&r, "phone", "+33612345678", 12, CN_V_STR);
	cn_record_add(&r, "email", "", 0, CN_V_STR);
	cn_record_add(&r, "blank", " \t ", 3, CN_V_STR);
	cn_record_add(&r, "Ville", NULL, 0, CN_V_NULL);
	cn_record_add(&r, "age", "42", 2, CN_V_NUM);
	cn_record_add(&r, "vip", "true", 4, CN_V_BOOL);
	cn_record_add(&r, "tags", "[\"a\"]", 5, CN_V_RAW);
	cn_record_add(&r, "date", "not this", 8, CN_V_STR);
	cn_record_add(&r, "sender", "not this", 8, CN_V_STR);

	ok(render("Bonjour {{first_name}} {{ last_name }}, le {{date}} ({{sender}})",
		  &r, &env, &out, &err) == 0, "a full render succeeds");
	is_str(out.ptr, "Bonjour Jérôme Martin, le 22/11/2026 (ACME)",
	       "values are trimmed; send-time fields win over the record's");

	cn_buf_reset(&out);
	ok(render("{{age}} ans, vip={{vip}}", &r, &env, &out, &err) == 0,
	   "numbers and booleans render");
	is_str(out.ptr, "42 ans, vip=true", "  as their text");

	cn_buf_reset(&out);
	cn_buf_adds(&out, "kept:");
	ok(render("Hi {{email}}", &r, &env, &out, &err) == -1 &&
	   err.code == CN_EDATA, "an empty value is missing: an error");
	is_str(err.msg, "missing value for merge field 'email' (template line "
	       "1, column 4)", "  that names the field and its place");
	is_str(out.ptr, "kept:", "  and leaves the output as it was");
	is_int(out.len, 5, "  (length too)");

	cn_buf_reset(&out);
	ok(render("{{blank}}", &r, &env, &out, &err) == -1,
	   "a value of only white space is missing");
	ok(render("{{Ville}}", &r, &env, &out, &err) == -1,
	   "a null value is missing");
	ok(render("x\n {{absent}}", &r, &env, &out, &err) == -1,
	   "an absent field is missing");
	is_str(err.msg, "missing value for merge field 'absent' (template line "
	       "2, column 2)", "  at line 2, column 2");
	ok(render("{{tags}}", &r, &env, &out, &err) == -1 &&
	   strstr(err.msg, "JSON object or array"),
	   "a JSON array is not a text");

	cn_buf_reset(&out);
	ok(render("{{email|sans email}}/{{blank|b}}/{{Ville| Lyon }}/"
		  "{{absent|}}.", &r, &env, &out, &err) == 0,
	   "defaults stand in for missing values");
	is_str(out.ptr, "sans email/b/Lyon/.", "  trimmed; an empty one "
	       "renders nothing");

	cn_buf_reset(&out);
	ok(render("{{sender}}", &r, &nosender, &out, &err) == -1,
	   "no sender name: {{sender}} is missing");
	ok(render("{{sender|l'agence}}", &r, &nosender, &out, &err) == 0,
	   "  unless it has a default");
	is_str(out.ptr, "l'agence", "  which is used");

	cn_buf_reset(&out);
	ok(render("{{{{first_name}}}} = {{first_name}} }}}}", &r, &env, &out,
		  &err) == 0, "escaped braces render");
	is_str(out.ptr, "{{first_name}} = Jérôme }}", "  as literal braces");

	cn_buf_reset(&out);
	ok(render("{{first_name}}", NULL, &env, &out, &err) == -1,
	   "no record: record fields are missing");
	ok(render("{{phone}}", &r, NULL, &out, &err) == 0,
	   "no env: record fields still render");

	cn_record_free(&r);
	cn_buf_free(&out);
}

static void
test_preview(void)
{
	struct cn_tpl t;
	struct cn_record r;
	struct cn_buf text;
	struct cn_sms_preview p;
	struct cn_sms_opts o = {0, "ACME", "STOP au 36180", 1};
	struct cn_tpl_env env = {"ACME", NOW};
	struct cn_err err;
	char v[162];

	memset(v, 'a', 161);
	v[161] = '\0';
	cn_record_init(&r);
	cn_record_add(&r, "first_name", v, 146, CN_V_STR);
	cn_buf_init(&text, 0);
	parse("{{first_name}}", &t, &err);
	ok(cn_tpl_preview(&t, &r, &env, &o, 1, &text, &p, &err) == 0,
	   "preview: 146 characters and the STOP mention");
	is_int(p.units, 160, "  are 160 septets");
	is_int(p.segments, 1, "  in one SMS");
	ok(p.text_len == 160 && memcmp(p.text + 146, "\nSTOP au 36180", 14) ==
	   0, "  the mention after a newline");
	is_int(text.len, 146, "  text holds the rendered body");
	cn_sms_preview_free(&p);
	cn_record_reset(&r);
	cn_record_add(&r, "first_name", v, 147, CN_V_STR);
	ok(cn_tpl_preview(&t, &r, &env, &o, 1, &text, &p, &err) == -1 &&
	   err.code == CN_EDATA, "preview: one more is over max_segments 1");
	is_str(err.msg, "the text is 2 segments long (at most 1: "
	       "sms.max_segments)", "  and says so");
	ok(p.text == NULL, "  and p is empty");
	ok(cn_tpl_preview(&t, &r, &env, &o, 0, &text, &p, &err) == 0 &&
	   p.segments == 2, "preview: max_segments 0 is no limit");
	cn_sms_preview_free(&p);
	cn_record_reset(&r);
	ok(cn_tpl_preview(&t, &r, &env, &o, 0, &text, &p, &err) == -1 &&
	   strstr(err.msg, "missing value"), "preview: a missing value");
	is_int(text.len, 0, "  leaves text empty");
	cn_tpl_free(&t);
	cn_buf_free(&text);
	cn_record_free(&r);
}

static void
test_date(void)
{
	char d[11];

	setenv("TZ", "UTC", 1);
	tzset();
	cn_tpl_date(1795390200, d);	/* 2026-11-22T23:30:00Z */
	is_str(d, "22/11/2026", "date in UTC");
	setenv("TZ", "CET-1", 1);
	tzset();
	cn_tpl_date(1795390200, d);
	is_str(d, "23/11/2026", "date in local time (UTC+1: the next day)");
	setenv("TZ", "UTC", 1);
	tzset();
}

/* ---------------------------------------------------------------- reply */

struct reply_case {
	const char *s;
	int ok;
	enum cn_tpl_reply mode;
	int64_t hours, until;
	const char *shown;	/* as cn_tpl_reply_format writes it */
};

static const struct reply_case replies[] = {
	{"none", 1, CN_REPLY_NONE, 0, 0, "none"},
	{"hours:48", 1, CN_REPLY_HOURS, 48, 0, "hours:48"},
	{"hours:1", 1, CN_REPLY_HOURS, 1, 0, "hours:1"},
	{"hours:8760", 1, CN_REPLY_HOURS, 8760, 0, "hours:8760"},
	{"until", 1, CN_REPLY_UNTIL, 0, 0, "until"},
	{"until:2026-12-01", 1, CN_REPLY_UNTIL, 0, 1796169599,
	 "until:2026-12-01T23:59:59Z"},
	{"until:2026-12-01T18:00Z", 1, CN_REPLY_UNTIL, 0, 1796148000,
	 "until:2026-12-01T18:00:00Z"},
	{"until:2026-12-01T18:00", 1, CN_REPLY_UNTIL, 0, 1796148000,
	 "until:2026-12-01T18:00:00Z"},
	{"until:2026-12-01 18:00:30+01:00", 1, CN_REPLY_UNTIL, 0, 1796144430,
	 "until:2026-12-01T17:00:30Z"},
	{"until:2026-12-01T18:00:30+0100", 1, CN_REPLY_UNTIL, 0, 1796144430,
	 "until:2026-12-01T17:00:30Z"},
	{"until:2024-02-29", 1, CN_REPLY_UNTIL, 0, 1709251199,
	 "until:2024-02-29T23:59:59Z"},
	{"hours:0", 0, 0, 0, 0, NULL},
	{"hours:8761", 0, 0, 0, 0, NULL},
	{"hours:", 0, 0, 0, 0, NULL},
	{"hours:-3", 0, 0, 0, 0, NULL},
	{"hours:4x", 0, 0, 0, 0, NULL},
	{"until:", 0, 0, 0, 0, NULL},
	{"until:2026-02-29", 0, 0, 0, 0, NULL},
	{"until:2026-13-01", 0, 0, 0, 0, NULL},
	{"until:2026-12-01T24:00", 0, 0, 0, 0, NULL},
	{"until:2026-12-01T18:00+25:00", 0, 0, 0, 0, NULL},
	{"until:2026-12-01T18", 0, 0, 0, 0, NULL},
	{"until:01/12/2026", 0, 0, 0, 0, NULL},
	{"until:2026-12-01Tnoon", 0, 0, 0, 0, NULL},
	{"never", 0, 0, 0, 0, NULL},
	{"", 0, 0, 0, 0, NULL},
};

static void
test_reply(void)
{
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		const struct reply_case *c = &replies[i];
		enum cn_tpl_reply mode = CN_REPLY_NONE;
		int64_t hours = -1, until = -1;
		struct cn_err err;
		char buf[40];
		int rc = cn_tpl_reply_parse(c->s, &mode, &hours, &until, &err);

		if (!c->ok) {
			ok(rc == -1 && err.code == CN_EUSAGE,
			   "reply '%s' is refused", c->s);
			continue;
		}
		ok(rc == 0 && mode == c->mode && hours == c->hours &&
		   until == c->until, "reply '%s' parses", c->s);
		is_str(cn_tpl_reply_format(mode, hours, until, buf), c->shown,
		       "  and is shown as '%s'", c->shown);
	}
}

static void
test_scope(void)
{
	enum cn_tpl_scope s;
	static const char *const names[] = {"common", "folder", "users"};

	for (int i = 0; i < 3; i++)
		ok(cn_tpl_scope_parse(names[i], &s) == 0 &&
		   strcmp(cn_tpl_scope_name(s), names[i]) == 0,
		   "scope %s round-trips", names[i]);
	ok(cn_tpl_scope_parse("user", &s) == -1, "scope 'user' is unknown");
}

static void
test_sms_opts(void)
{
	struct cn_config cfg;
	struct cn_sms_opts o;
	char sender[] = "AGENCE", stop[] = "STOP au 36180", nl[] = "newline";

	memset(&cfg, 0, sizeof(cfg));
	cn_template_sms_opts(&cfg, NULL, 0, &o);
	ok(o.sender == NULL && o.stop_mention == NULL && !o.stop_newline &&
	   !o.transliterate, "no configuration: nothing added");
	cfg.sms_sender = sender;
	cfg.sms_stop_mention = stop;
	cfg.sms_stop_separator = nl;
	cn_template_sms_opts(&cfg, NULL, 1, &o);
	ok(o.sender == sender && o.stop_mention == stop && o.stop_newline &&
	   o.transliterate, "the configuration's sender, mention, newline");
	cn_template_sms_opts(&cfg, "ACME", 0, &o);
	is_str(o.sender, "ACME", "a sender given wins over the configuration");
}

/* ---------------------------------------------------- the sender's lookups */

static int64_t
add_tpl(struct cn_store *st, const char *title, const char *body,
	const char *context, int scope, const char *folder, const char *user1,
	int is_default, int active)
{
	struct cn_template_spec s;
	struct cn_err err;
	const char *users[1] = {user1};
	int64_t id;

	cn_template_spec_init(&s);
	s.title = title;
	s.body = body;
	s.context = context;
	s.scope = scope;
	s.folder = folder;
	s.is_default = is_default;
	s.active = active;
	if (user1) {
		s.users = users;
		s.nusers = 1;
	}
	id = cn_template_add(st, &s, "tester", NULL, &err);
	if (id < 0)
		printf("# add '%s': %s\n", title, err.msg);
	return id;
}

/* The id cn_template_default finds (0: none, -1: error). */
static int64_t
dflt(struct cn_store *st, const char *ctx, const char *folder,
     const char *user)
{
	struct cn_template t;
	struct cn_err err;
	int r = cn_template_default(st, ctx, folder, user, &t, &err);
	int64_t id = r == 1 ? t.id : r;

	cn_template_free(&t);
	return id;
}

/* The id cn_template_find finds, or -1 with the message in msg. */
static int64_t
find(struct cn_store *st, const char *key, const char *folder,
     const char *user, unsigned flags, struct cn_err *err)
{
	struct cn_template t;
	int64_t id;

	cn_err_clear(err);
	if (cn_template_find(st, key, folder, user, flags, &t, err) < 0)
		return -1;
	id = t.id;
	cn_template_free(&t);
	return id;
}

static void
test_lookups(void)
{
	char dir[] = "/tmp/t-template.XXXXXX", path[64];
	const unsigned AU = CN_TPL_FIND_ACTIVE | CN_TPL_FIND_USABLE;
	struct cn_template_spec s;
	struct cn_template t;
	struct cn_store *st;
	struct cn_err err;
	int64_t common, folder, users, off, away, rel_c, rel_f, num;

	if (!mkdtemp(dir)) {
		ok(0, "a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/carnet.db", dir);
	st = cn_store_open(path, 1000, &err);
	ok(st != NULL, "a store opens");
	if (!st)
		return;
	common = add_tpl(st, "Commun", "c", "client", CN_SCOPE_COMMON, NULL,
			 NULL, 1, 1);
	folder = add_tpl(st, "Dossier", "d", "client", CN_SCOPE_FOLDER,
			 "agence", NULL, 1, 1);
	users = add_tpl(st, "Perso", "p", "client", CN_SCOPE_USERS, "agence",
			"jk", 1, 1);
	off = add_tpl(st, "Off", "o", "client", CN_SCOPE_FOLDER, "agence",
		      NULL, 0, 0);
	away = add_tpl(st, "Ailleurs", "a", NULL, CN_SCOPE_FOLDER, "autre",
		       NULL, 0, 1);
	rel_c = add_tpl(st, "Relance", "r", NULL, CN_SCOPE_COMMON, NULL, NULL,
			0, 1);
	rel_f = add_tpl(st, "Relance", "r", NULL, CN_SCOPE_FOLDER, "agence",
			NULL, 0, 1);
	num = add_tpl(st, "2024", "n", NULL, CN_SCOPE_FOLDER, "agence", NULL,
		      0, 1);
	ok(common > 0 && folder > 0 && users > 0 && off > 0 && away > 0 &&
	   rel_c > 0 && rel_f > 0 && num > 0, "eight templates added");

	is_int(dflt(st, "client", "agence", "jk"), users,
	       "default: scope users wins for a listed user");
	is_int(dflt(st, "client", "agence", "sylvie"), folder,
	       "default: then the folder's");
	is_int(dflt(st, "client", "autre", "sylvie"), common,
	       "default: then the common one");
	is_int(dflt(st, "client", "nowhere", "x"), common,
	       "default: an unknown folder sees the common one");
	is_int(dflt(st, "contract", "agence", "jk"), 0,
	       "default: none for a context without one");
	cn_template_spec_init(&s);
	s.active = 0;
	ok(cn_template_edit(st, folder, &s, NULL, &err) == 0,
	   "the folder's default is switched off");
	is_int(dflt(st, "client", "agence", "sylvie"), common,
	       "default: an inactive default is skipped");

	is_int(find(st, "Off", "agence", "jk", AU, &err), -1,
	       "find: an inactive template is not found for sending");
	is_str(err.msg, "template 'Off' is inactive", "  and says why");
	ok(err.code == CN_ENOINPUT, "  (no input)");
	is_int(find(st, "Off", "agence", NULL, 0, &err), off,
	       "find: without flags it is found");
	is_int(find(st, "Ailleurs", "agence", "jk", AU, &err), -1,
	       "find: a title of another folder is not found");
	is_str(err.msg, "no template 'Ailleurs' in folder 'agence' or among "
	       "the common ones", "  and says where it looked");
	{
		char key[24];

		snprintf(key, sizeof(key), "%lld", (long long)away);
		is_int(find(st, key, "agence", "jk", AU, &err), -1,
		       "find: by id, a template of another folder is not "
		       "usable");
		is_str(err.msg, "template '5' belongs to folder 'autre', not "
		       "'agence'", "  and says why");
		is_int(find(st, key, "agence", "jk", CN_TPL_FIND_ACTIVE, &err),
		       away, "find: without USABLE it is found");
	}
	is_int(find(st, "Perso", "agence", "sylvie", AU, &err), -1,
	       "find: a users template is not for unlisted users");
	is_str(err.msg, "template 'Perso' is not available to user 'sylvie'",
	       "  and says why");
	is_int(find(st, "Perso", "agence", "jk", AU, &err), users,
	       "find: but is for listed ones");
	is_int(find(st, "Relance", "agence", "jk", AU, &err), rel_f,
	       "find: the folder's title wins over the common one");
	is_int(find(st, "Relance", "autre", "jk", AU, &err), rel_c,
	       "find: the common one from another folder");
	is_int(find(st, "Relance", NULL, NULL, 0, &err), -1,
	       "find: the title of two templates without a folder");
	ok(err.code == CN_EUSAGE, "  is a usage error");
	is_int(find(st, "2024", "agence", NULL, 0, &err), num,
	       "find: a title that looks like an id that does not exist");
	ok(cn_template_get(st, users, &t, &err) == 0, "get by id");
	is_int(find(st, t.uuid, NULL, NULL, 0, &err), users, "find by UUID");
	is_int(t.nusers, 1, "get fills the users");
	is_str(t.users[0], "jk", "  by name");
	cn_template_free(&t);
	ok(cn_template_delete(st, users, 0, &err) == 0, "delete");
	is_int(find(st, "Perso", "agence", "jk", AU, &err), -1,
	       "a deleted template is not found");
	is_int(dflt(st, "client", "agence", "jk"), common,
	       "and no longer the default");
	ok(cn_template_delete(st, users, 0, &err) == -1 &&
	   err.code == CN_ENOINPUT, "deleting it again is no input");

	cn_store_close(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/carnet.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/carnet.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_parse();
	test_fields();
	test_check();
	test_render();
	test_preview();
	test_date();
	test_reply();
	test_scope();
	test_sms_opts();
	test_lookups();
	return done_testing();
}
