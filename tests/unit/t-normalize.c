/*
 * t-normalize.c - unit tests of lib/normalize.c: the strict UTF-8
 * validator, email normalisation and phone numbers to E.164.
 */
#include <stdlib.h>
#include <string.h>

#include "carnet.h"
#include "tap.h"

/* ---------------------------------------------------------------- utf-8 */

struct utf8_case {
	const char *name;
	const char *s;
	size_t len;
	int valid;
	size_t bad;
};

#define U(name, lit, valid, bad) {name, lit, sizeof(lit) - 1, valid, bad}

static const struct utf8_case utf8_cases[] = {
	U("empty", "", 1, 0),
	U("ascii", "hello, world", 1, 0),
	U("2-byte e acute", "caf\xc3\xa9", 1, 0),
	U("3-byte euro", "\xe2\x82\xac", 1, 0),
	U("4-byte emoji", "\xf0\x9f\x98\x80", 1, 0),
	U("U+D7FF before surrogates", "\xed\x9f\xbf", 1, 0),
	U("U+E000 after surrogates", "\xee\x80\x80", 1, 0),
	U("U+10FFFF", "\xf4\x8f\xbf\xbf", 1, 0),
	U("long ascii runs around e acute",
	  "abcdefghijklmnopqrstuvwxyz0123456789\xc3\xa9" "abcdefghijklmnop", 1,
	  0),
	U("overlong C0 80", "\xc0\x80", 0, 0),
	U("overlong C1 BF after ascii", "ab\xc1\xbf", 0, 2),
	U("overlong E0 80 80", "\xe0\x80\x80", 0, 0),
	U("overlong E0 9F BF", "x\xe0\x9f\xbf", 0, 1),
	U("overlong F0 80 80 80", "\xf0\x80\x80\x80", 0, 0),
	U("surrogate ED A0 80", "\xed\xa0\x80", 0, 0),
	U("surrogate ED BF BF", "ok \xed\xbf\xbf", 0, 3),
	U("above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", 0, 0),
	U("F5 lead byte", "\xf5\x80\x80\x80", 0, 0),
	U("FF byte", "abc\xff", 0, 3),
	U("lone continuation", "\x80", 0, 0),
	U("truncated 2-byte at end", "abc\xc3", 0, 3),
	U("truncated 3-byte at end", "\xe2\x82", 0, 0),
	U("truncated 4-byte at end", "a\xf0\x9f\x98", 0, 1),
	U("bad continuation C3 28", "\xc3\x28", 0, 0),
	U("NUL byte", "ab\0cd", 0, 2),
	U("NUL inside an 8-byte run", "0123456789abc\0efghijklmnop", 0, 13),
	U("high byte deep in ascii", "0123456789abcdefg\x80xyz", 0, 17),
	U("latin-1 e acute", "caf\xe9", 0, 3),
};

static void
test_utf8(void)
{
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	     i++) {
		const struct utf8_case *t = &utf8_cases[i];
		size_t bad = 9999;
		int v = cn_utf8_valid(t->s, t->len, &bad);

		is_int(v, t->valid, "utf8 %s: %s", t->name,
		       t->valid ? "valid" : "invalid");
		if (!t->valid)
			is_int(bad, t->bad, "utf8 %s: bad offset", t->name);
	}
	ok(cn_utf8_valid("\xc3", 1, NULL) == 0, "utf8: bad may be NULL");
	/* a valid sequence cut by len */
	ok(cn_utf8_valid("\xc3\xa9", 1, NULL) == 0, "utf8: len cuts a sequence");
}

/* ---------------------------------------------------------------- email */

struct email_case {
	const char *name;	/* NULL: the input */
	const char *in;
	const char *want;	/* NULL: an error ending in why */
	const char *why;
};

static const struct email_case email_cases[] = {
	{NULL, "John.Doe@Example.COM", "John.Doe@example.com", NULL},
	{"trimmed", " \t a.b@c.fr \t", "a.b@c.fr", NULL},
	{NULL, "Jean.Dupont+news@Sub.Example.Fr",
	 "Jean.Dupont+news@sub.example.fr", NULL},
	{NULL, "x@xn--bcher-kva.example", "x@xn--bcher-kva.example", NULL},
	{"utf-8 domain", "x@B\xc3\x9c" "cher.DE", "x@b\xc3\x9c" "cher.de", NULL},
	{NULL, "o'brien@a-b.c-d.ie", "o'brien@a-b.c-d.ie", NULL},
	{NULL, "a@b@c.fr", NULL, "more than one '@'"},
	{NULL, "a@b..fr@", NULL, "more than one '@'"},
	{NULL, "ab.fr", NULL, "no '@'"},
	{NULL, "john doe", NULL, "no '@'"},
	{NULL, "a@localhost", NULL, "domain has no dot"},
	{NULL, "a@b.fr.", NULL, "domain ends with a dot"},
	{NULL, "a@.b.fr", NULL, "domain starts with a dot"},
	{NULL, "a@b..fr", NULL, "domain has an empty label"},
	{NULL, "", NULL, "empty"},
	{"blanks only", " \t ", NULL, "empty"},
	{NULL, "@b.fr", NULL, "empty local part"},
	{NULL, "a@", NULL, "empty domain"},
	{NULL, "a b@c.fr", NULL, "space in local part"},
	{"control in local", "a\x01@c.fr", NULL,
	 "control character in local part"},
	{NULL, "<a@b.fr>", NULL, "invalid character in local part"},
	{NULL, "a@b c.fr", NULL, "space in domain"},
	{NULL, "a@b_c.fr", NULL, "invalid character in domain"},
	{NULL, "a@-b.fr", NULL, "domain label starts with '-'"},
	{NULL, "a@b-.fr", NULL, "domain label ends with '-'"},
	{"invalid utf-8", "a\xff@b.fr", NULL, "not valid UTF-8"},
};

static void
email_check(const struct email_case *t)
{
	char out[256], name[64];
	struct cn_err err;
	int rc;

	if (t->name)
		snprintf(name, sizeof(name), "%s", t->name);
	else
		snprintf(name, sizeof(name), "'%s'", t->in);
	cn_err_clear(&err);
	memset(out, 'z', sizeof(out));
	rc = cn_email_normalize(t->in, out, sizeof(out), &err);
	if (t->want) {
		if (!ok(rc == 0 && strcmp(out, t->want) == 0, "email %s", name))
			printf("#   got %d '%s' (%s), want '%s'\n", rc, out,
			       err.msg, t->want);
	} else {
		size_t ml = strlen(err.msg), wl = strlen(t->why);

		if (!ok(rc == -1 && err.code == CN_EDATA && out[0] == '\0' &&
				ml > wl + 2 &&
				strcmp(err.msg + ml - wl, t->why) == 0 &&
				strncmp(err.msg, "invalid email '", 15) == 0,
			"email %s: %s", name, t->why))
			printf("#   got %d, code %d, '%s'\n", rc, err.code,
			       err.msg);
	}
}

static void
test_email(void)
{
	char out[256], in[400];
	struct cn_err err;

	for (size_t i = 0; i < sizeof(email_cases) / sizeof(email_cases[0]);
	     i++)
		email_check(&email_cases[i]);

	/* lengths: local part 64 bytes, total 254 */
	memset(in, 'a', 64);
	memcpy(in + 64, "@b.fr", 6);
	ok(cn_email_normalize(in, out, sizeof(out), &err) == 0 &&
		   strcmp(out, in) == 0,
	   "email: 64-byte local part");
	memset(in, 'a', 65);
	memcpy(in + 65, "@b.fr", 6);
	ok(cn_email_normalize(in, out, sizeof(out), &err) == -1 &&
		   strstr(err.msg, ": local part too long"),
	   "email: 65-byte local part");
	memcpy(in, "a@", 2);
	memset(in + 2, 'b', 248);
	memcpy(in + 250, ".fr", 4);	/* 253 bytes */
	ok(cn_email_normalize(in, out, sizeof(out), &err) == 0,
	   "email: 253 bytes");
	memset(in + 2, 'b', 250);
	memcpy(in + 252, ".fr", 4);	/* 255 bytes */
	ok(cn_email_normalize(in, out, sizeof(out), &err) == -1 &&
		   strstr(err.msg, ": too long"),
	   "email: 255 bytes is too long");

	/* whole messages */
	cn_email_normalize("a@b@c.fr", out, sizeof(out), &err);
	is_str(err.msg, "invalid email 'a@b@c.fr': more than one '@'",
	       "email: message, two '@'");
	cn_email_normalize(" Jo@Example ", out, sizeof(out), &err);
	is_str(err.msg, "invalid email ' Jo@Example ': domain has no dot",
	       "email: message quotes the input as given");
	cn_email_normalize("a\x01'\\b", out, sizeof(out), &err);
	is_str(err.msg, "invalid email 'a\\x01\\'\\\\b': no '@'",
	       "email: message escapes control bytes, quote, backslash");
	cn_email_normalize("\xc3\xa9t\xe9", out, sizeof(out), &err);
	is_str(err.msg, "invalid email '\xc3\xa9t\\xe9': no '@'",
	       "email: message keeps UTF-8, escapes invalid bytes");
	memset(in, 'x', 100);
	in[100] = '\0';
	cn_email_normalize(in, out, sizeof(out), &err);
	ok(strlen(err.msg) == strlen("invalid email '': no '@'") + 63 &&
		   strstr(err.msg, "xxx...': no '@'"),
	   "email: message cuts a long input at 60 bytes");

	/* the output buffer */
	cn_err_clear(&err);
	ok(cn_email_normalize("a@b.fr", out, 6, &err) == -1 &&
		   err.code == CN_EINTERNAL,
	   "email: out too small is an internal error");
	ok(cn_email_normalize("a@b.fr", out, 7, &err) == 0 &&
		   strcmp(out, "a@b.fr") == 0,
	   "email: out just large enough");
	ok(cn_email_normalize(NULL, out, sizeof(out), NULL) == -1,
	   "email: NULL input and NULL err");
}

/* ---------------------------------------------------------------- phones */

static void
phone_ok(const struct cn_phone_rules *r, const char *name, const char *in,
	 const char *want)
{
	char out[17];
	struct cn_err err;
	int rc;

	cn_err_clear(&err);
	rc = cn_phone_normalize(r, in, out, sizeof(out), &err);
	if (!ok(rc == 0 && strcmp(out, want) == 0, "phone %s %s -> %s",
		r ? r->country : "--", name ? name : in, want))
		printf("#   got %d '%s' (%s)\n", rc, out, err.msg);
}

static void
phone_bad(const struct cn_phone_rules *r, const char *name, const char *in,
	  const char *why)
{
	char out[17];
	struct cn_err err;
	size_t ml, wl = strlen(why);
	int rc;

	cn_err_clear(&err);
	memset(out, 'z', sizeof(out));
	rc = cn_phone_normalize(r, in, out, sizeof(out), &err);
	ml = strlen(err.msg);
	if (!ok(rc == -1 && err.code == CN_EDATA && out[0] == '\0' &&
			ml > wl + 2 && strcmp(err.msg + ml - wl, why) == 0 &&
			strncmp(err.msg, "invalid phone '", 15) == 0,
		"phone %s %s: %s", r ? r->country : "--", name ? name : in,
		why))
		printf("#   got %d, code %d, '%s' '%.16s'\n", rc, err.code,
		       err.msg, out);
}

static void
test_rules(void)
{
	struct cn_phone_rules r;
	struct cn_err err;

	ok(cn_phone_rules_init(&r, "fr", &err) == 0 &&
		   strcmp(r.country, "FR") == 0,
	   "rules: fr (lower case) is FR");
	ok(r.noverseas == 8 && r.overseas &&
		   strcmp(r.overseas[0].prefix, "0690") == 0 &&
		   strcmp(r.overseas[0].code, "590") == 0,
	   "rules: FR has the overseas mobile prefixes");
	cn_phone_rules_free(&r);
	ok(r.overseas == NULL && r.noverseas == 0, "rules: free clears");
	cn_phone_rules_free(&r);
	cn_phone_rules_free(NULL);

	ok(cn_phone_rules_init(&r, "Be", &err) == 0 &&
		   strcmp(r.country, "BE") == 0 && !r.overseas &&
		   r.noverseas == 0,
	   "rules: BE, no overseas table");
	cn_phone_rules_free(&r);

	cn_err_clear(&err);
	ok(cn_phone_rules_init(&r, "XX", &err) == -1 &&
		   err.code == CN_ECONFIG &&
		   strcmp(err.msg, "unknown country 'XX'") == 0 &&
		   !r.overseas && r.noverseas == 0,
	   "rules: XX is unknown");
	ok(cn_phone_rules_init(&r, "FRA", &err) == -1 &&
		   err.code == CN_ECONFIG,
	   "rules: FRA is unknown");
	ok(cn_phone_rules_init(&r, NULL, NULL) == -1, "rules: NULL country");
	ok(cn_phone_rules_init(&r, "", &err) == -1, "rules: empty country");
}

static void
test_phone_fr(void)
{
	struct cn_phone_rules fr;
	struct cn_err err;
	char out[17];

	cn_phone_rules_init(&fr, "FR", NULL);
	phone_ok(&fr, NULL, "06 12 34 56 78", "+33612345678");
	phone_ok(&fr, NULL, "+33 6 12 34 56 78", "+33612345678");
	phone_ok(&fr, NULL, "0033612345678", "+33612345678");
	phone_ok(&fr, NULL, "+33 (0)6 12 34 56 78", "+33612345678");
	phone_ok(&fr, NULL, "+33 06 12 34 56 78", "+33612345678");
	phone_ok(&fr, NULL, "06.12.34.56.78", "+33612345678");
	phone_ok(&fr, NULL, "06-12-34-56-78", "+33612345678");
	phone_ok(&fr, NULL, "06/12/34/56/78", "+33612345678");
	phone_ok(&fr, NULL, "(+33) 6 12 34 56 78", "+33612345678");
	phone_ok(&fr, NULL, " \t0612345678\t ", "+33612345678");
	phone_ok(&fr, "with U+00A0", "06\xc2\xa0" "12\xc2\xa0" "34 56 78",
		 "+33612345678");
	phone_ok(&fr, "with U+202F", "06\xe2\x80\xaf" "12\xe2\x80\xaf" "34 56 78",
		 "+33612345678");
	phone_ok(&fr, NULL, "01 23 45 67 89", "+33123456789");
	phone_ok(&fr, NULL, "+44 20 7946 0958", "+442079460958");
	phone_ok(&fr, NULL, "+44 (0)20 7946 0958", "+442079460958");
	phone_ok(&fr, NULL, "+1 (212) 555-1234", "+12125551234");
	phone_ok(&fr, NULL, "+39 02 1234 5678", "+390212345678");
	phone_ok(&fr, NULL, "+39 (0)2 1234 5678", "+390212345678");
	phone_ok(&fr, NULL, "+49 30 1234567", "+49301234567");
	phone_ok(&fr, NULL, "+352 621 123 456", "+352621123456");
	phone_ok(&fr, NULL, "+212 6 12 34 56 78", "+212612345678");
	phone_ok(&fr, NULL, "+590 690 12 34 56", "+590690123456");
	phone_ok(&fr, "unknown code", "+7 912 345 67 89", "+79123456789");
	phone_ok(&fr, "unknown code with (0)", "+43 (0)1 234 5678",
		 "+4312345678");

	/* overseas departments dialled from France */
	phone_ok(&fr, NULL, "0690 12 34 56", "+590690123456");
	phone_ok(&fr, NULL, "0691 12 34 56", "+590691123456");
	phone_ok(&fr, NULL, "0696 12 34 56", "+596696123456");
	phone_ok(&fr, NULL, "0697 12 34 56", "+596697123456");
	phone_ok(&fr, NULL, "0694 12 34 56", "+594694123456");
	phone_ok(&fr, NULL, "0692 12 34 56", "+262692123456");
	/* the same overseas numbers written in international form with +33 */
	phone_ok(&fr, "+33 690 is Guadeloupe", "+33 6 90 12 34 56",
		 "+590690123456");
	phone_ok(&fr, "0033 692 is Reunion", "0033 692 12 34 56",
		 "+262692123456");
	phone_ok(&fr, "+33 (0)696 is Martinique", "+33 (0)696 12 34 56",
		 "+596696123456");
	phone_ok(&fr, "+33 6 12 stays mainland", "+33 6 12 34 56 78",
		 "+33612345678");
	phone_ok(&fr, NULL, "0693 12 34 56", "+262693123456");
	phone_ok(&fr, NULL, "0639 12 34 56", "+262639123456");

	/* a lost leading 0, a country code without '+' */
	phone_ok(&fr, NULL, "612345678", "+33612345678");
	phone_ok(&fr, NULL, "690123456", "+590690123456");
	phone_ok(&fr, NULL, "33612345678", "+33612345678");

	phone_bad(&fr, NULL, "0612", "too short");
	phone_bad(&fr, NULL, "0690 12 34", "too short");
	phone_bad(&fr, NULL, "+33 6 12 34 56 78 9", "too long");
	phone_bad(&fr, NULL, "+33 6 12 34 56 7", "too short");
	phone_bad(&fr, NULL, "06 12 34 56 78 90 12 34 56 78 12", "too long");
	phone_bad(&fr, NULL, "+999 12", "too short");
	phone_bad(&fr, NULL, "+1234567890123456", "too long");
	phone_bad(&fr, NULL, "+0612345678", "unknown country code");
	phone_bad(&fr, "(0) makes a known code", "+4 (0)4 12345678",
		  "unknown country code");
	phone_bad(&fr, NULL, "06 12 AB", "not a number");
	phone_bad(&fr, NULL, "tel. 0612345678", "not a number");
	phone_bad(&fr, NULL, "+", "no digits after '+'");
	phone_bad(&fr, NULL, "", "empty");
	phone_bad(&fr, NULL, "   ", "empty");
	phone_bad(&fr, NULL, "--", "not a number");
	phone_bad(&fr, NULL, "+33 6 +12 34 56 78", "misplaced '+'");
	phone_bad(&fr, NULL, "1234567890", "too long");
	phone_bad(&fr, NULL, "00", "too short");

	cn_phone_normalize(&fr, "06 12", out, sizeof(out), &err);
	is_str(err.msg, "invalid phone '06 12': too short",
	       "phone: message, too short");
	cn_phone_normalize(&fr, "06\n12", out, sizeof(out), &err);
	is_str(err.msg, "invalid phone '06\\x0a12': not a number",
	       "phone: message escapes a newline");
	cn_err_clear(&err);
	ok(cn_phone_normalize(&fr, "0612345678", out, 16, &err) == -1 &&
		   err.code == CN_EINTERNAL,
	   "phone: cap 16 is refused");
	ok(cn_phone_normalize(&fr, "0612345678", out, 17, NULL) == 0 &&
		   strcmp(out, "+33612345678") == 0,
	   "phone: cap 17, NULL err");
	cn_phone_rules_free(&fr);
}

/* One national number per country, and its E.164 form. */
static const struct {
	const char *iso, *national, *e164;
} per_country[] = {
	{"FR", "06 12 34 56 78", "+33612345678"},
	{"BE", "0471 12 34 56", "+32471123456"},
	{"NL", "06 12345678", "+31612345678"},
	{"DE", "030 123456", "+4930123456"},
	{"ES", "612 345 678", "+34612345678"},
	{"IT", "02 1234 5678", "+390212345678"},
	{"CH", "079 123 45 67", "+41791234567"},
	{"LU", "621 123 456", "+352621123456"},
	{"GB", "07911 123456", "+447911123456"},
	{"IE", "085 123 4567", "+353851234567"},
	{"PT", "912 345 678", "+351912345678"},
	{"US", "(212) 555-1234", "+12125551234"},
	{"CA", "416-555-1234", "+14165551234"},
	{"MA", "06 12 34 56 78", "+212612345678"},
	{"DZ", "0551 23 45 67", "+213551234567"},
	{"TN", "20 123 456", "+21620123456"},
	{"SN", "77 123 45 67", "+221771234567"},
	{"RE", "0692 12 34 56", "+262692123456"},
	{"YT", "0639 12 34 56", "+262639123456"},
	{"GP", "0690 12 34 56", "+590690123456"},
	{"MQ", "0696 12 34 56", "+596696123456"},
	{"GF", "0694 12 34 56", "+594694123456"},
};

static void
test_phone_countries(void)
{
	struct cn_phone_rules r, fr;

	cn_phone_rules_init(&fr, "FR", NULL);
	for (size_t i = 0; i < sizeof(per_country) / sizeof(per_country[0]);
	     i++) {
		if (!ok(cn_phone_rules_init(&r, per_country[i].iso, NULL) == 0,
			"rules: %s", per_country[i].iso))
			continue;
		phone_ok(&r, NULL, per_country[i].national,
			 per_country[i].e164);
		/* the E.164 form is read back as is, from France */
		phone_ok(&fr, NULL, per_country[i].e164, per_country[i].e164);
		cn_phone_rules_free(&r);
	}
	cn_phone_rules_free(&fr);
}

static void
test_phone_others(void)
{
	struct cn_phone_rules r;
	struct cn_err err;
	char out[17];

	cn_phone_rules_init(&r, "US", NULL);
	phone_ok(&r, NULL, "(212) 555-1234", "+12125551234");
	phone_ok(&r, NULL, "1-212-555-1234", "+12125551234");
	phone_ok(&r, NULL, "011 33 6 12 34 56 78", "+33612345678");
	phone_bad(&r, NULL, "555-1234", "too short");
	phone_bad(&r, NULL, "1 106 044 0090", "misplaced trunk prefix");
	cn_phone_rules_free(&r);

	cn_phone_rules_init(&r, "IT", NULL);
	phone_ok(&r, NULL, "02 1234 5678", "+390212345678");
	phone_ok(&r, NULL, "312 345 6789", "+393123456789");
	phone_ok(&r, NULL, "0039 312 345 6789", "+393123456789");
	phone_bad(&r, NULL, "12345", "too short");
	cn_phone_rules_free(&r);

	cn_phone_rules_init(&r, "ES", NULL);
	phone_ok(&r, NULL, "612 34 56 78", "+34612345678");
	phone_ok(&r, NULL, "34 612 34 56 78", "+34612345678");
	phone_bad(&r, NULL, "612 34 56", "too short");
	cn_phone_rules_free(&r);

	cn_phone_rules_init(&r, "DE", NULL);
	phone_ok(&r, NULL, "030 1234567", "+49301234567");
	phone_bad(&r, NULL, "4930123456", "ambiguous without '+' or trunk prefix");
	cn_phone_rules_free(&r);

	cn_phone_rules_init(&r, "BE", NULL);
	phone_ok(&r, NULL, "0471 12 34 56", "+32471123456");
	phone_ok(&r, NULL, "02 123 45 67", "+3221234567");
	cn_phone_rules_free(&r);

	cn_phone_rules_init(&r, "TN", NULL);
	phone_ok(&r, NULL, "20 123 456", "+21620123456");
	cn_phone_rules_free(&r);

	cn_phone_rules_init(&r, "RE", NULL);
	phone_ok(&r, NULL, "0692 12 34 56", "+262692123456");
	cn_phone_rules_free(&r);

	/* no rules: international numbers only */
	phone_ok(NULL, NULL, "+33 6 12 34 56 78", "+33612345678");
	phone_bad(NULL, NULL, "06 12 34 56 78", "no country code");

	/* an overseas table from the configuration replaces the default */
	cn_phone_rules_init(&r, "FR", NULL);
	free(r.overseas);
	r.overseas = malloc(2 * sizeof(*r.overseas));
	r.noverseas = 2;
	memcpy(r.overseas[0].prefix, "0262", 5);
	memcpy(r.overseas[0].code, "262", 4);
	memcpy(r.overseas[1].prefix, "0590", 5);
	memcpy(r.overseas[1].code, "+590", 5);
	phone_ok(&r, "configured 0262", "0262 12 34 56", "+262262123456");
	phone_ok(&r, "configured +590", "0590 12 34 56", "+590590123456");
	phone_ok(&r, "0690 no longer mapped", "0690 12 34 56", "+33690123456");
	memcpy(r.overseas[1].code, "5x0", 4);
	cn_err_clear(&err);
	ok(cn_phone_normalize(&r, "0590 12 34 56", out, sizeof(out), &err) ==
			   -1 &&
		   err.code == CN_ECONFIG &&
		   strcmp(err.msg, "invalid overseas code '5x0'") == 0,
	   "phone: bad overseas code is a config error");
	cn_phone_rules_free(&r);

	memcpy(r.country, "ZZ", 3);
	cn_err_clear(&err);
	ok(cn_phone_normalize(&r, "0612345678", out, sizeof(out), &err) == -1 &&
		   err.code == CN_ECONFIG &&
		   strcmp(err.msg, "unknown country 'ZZ'") == 0,
	   "phone: rules with an unknown country");
}

int
main(void)
{
	test_utf8();
	test_email();
	test_rules();
	test_phone_fr();
	test_phone_countries();
	test_phone_others();
	return done_testing();
}
